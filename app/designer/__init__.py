"""Low-code administration: designing diagrams and forms, versioned publishing, SoICT templates, audit.

Domain layer: no Flask request, no Flask-AppBuilder. Admin pages (app/admin/designer.py,
app/admin/form_editor.py) load, check access and call one function here.
"""
