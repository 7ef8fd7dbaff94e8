"""User-facing front ends: the launcher (compute servers + web server + browser) and the desktop window."""
