"""One module per simulated vendor; `common` holds the enable guard and reply helpers."""
