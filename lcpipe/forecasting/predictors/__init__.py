"""Predictors, one module each; forecasting/registry.py names them. Importing one predictor
imports no other."""
