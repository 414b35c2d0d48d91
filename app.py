"""Loyalty Lab: entry point.

Sets the page config, makes sure a dataset is in the session (the bundled sample until the
user uploads one), draws the sidebar (data source, program inputs, export privacy, segment
filter) and hands over to the selected page: all in :func:`ui.router.run_app`.
Run with ``streamlit run app.py``.
"""

from ui.router import run_app

run_app()
