"""The invoicing domain: PDF rendering, timesheets, payroll and (later) invoice runs.

Nothing in here touches Flask request objects."""
