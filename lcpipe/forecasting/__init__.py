"""Forecasting half: the curve file format, features, predictors (a registry), backtests, the
keep/stop decision and forecast scores. Imports no torch unless a learned predictor is used."""
