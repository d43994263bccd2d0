"""Bridges from lcpipe's forecasts to the tools people already run studies with.

`lcpipe.integrations.optuna.ForecastPruner`: an Optuna pruner that stops a trial when lcpipe's
stop rule (forecasting/stop_rule.py) says another trial is likely to end above it. Importing it
needs the `optuna` extra (`pip install lcpipe[optuna]`); importing this package does not.
"""
