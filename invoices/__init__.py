"""The invoicing domain: runs, numbering, PDF rendering, payments, reminders and exports."""
