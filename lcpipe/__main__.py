"""`python -m lcpipe ...` is the `lcpipe` console script."""

from lcpipe.cli import main

if __name__ == "__main__":
    main()
