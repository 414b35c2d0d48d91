"""Streamlit-aware helpers: session state, cached wrappers, shared widgets."""
