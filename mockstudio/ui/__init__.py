"""The web dashboard's static files (static/): HTML, CSS and ES modules, no build step."""
