"""The only package that imports SpiffWorkflow: diagrams, safe expressions, instances, human tasks."""
