"""Analisa's read-only REST API in front of gold (FastAPI). Entry points: `serving_api.app`."""
