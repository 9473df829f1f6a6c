"""The shared core under both domains: the schema, money, audit, the organisation's settings,
links, the shift's state rules, and the outside systems every part uses (database, job queue,
mail). Hiring and hours (`portal/services/`) and billing (`invoices/`) stand on it side by
side; neither imports the other, and nothing here imports either of them."""
