"""placeholder"""
ROUTES = []
