"""Reference data the demo draws from: places, companies, products and warehouses (pure data)."""
