"""Reporting: figures, markdown and CSV tables. Imported only by the stages and commands that draw
them, so a colour or table edit reruns only those."""
