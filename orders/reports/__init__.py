"""Reports: CSV downloads (orders, ledger, profit) and the numbers behind the operators' report screens.

- orders.reports.csv: the CSV rules every download follows (cells, formula-injection escaping, streaming).
- orders.reports.periods: the date range of a report (WIB calendar days) from a query string.
- orders.reports.queries: the rows of the orders, ledger and profit CSVs, and the profit maths.
- orders.reports.charts: the geometry of the profit screen's daily revenue-vs-cost chart and of the reseller
  dashboard's daily spend (nice Rupiah ticks, thinned date labels).
"""
