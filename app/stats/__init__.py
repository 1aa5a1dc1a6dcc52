"""Usage statistics (Art 12–13, QĐ 52/2014): per agency, department and person; SoICT's province comparison."""
