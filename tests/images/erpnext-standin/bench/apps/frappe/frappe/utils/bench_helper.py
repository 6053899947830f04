"""Entry point the `bench` launcher runs: `python -m frappe.utils.bench_helper frappe COMMAND ...`."""

import sys

from frappe.commands import main

if __name__ == "__main__":
    sys.exit(main())
