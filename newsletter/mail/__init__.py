"""Email: render a template folder into a message, and hand messages to an SMTP relay."""
