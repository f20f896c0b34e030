"""Email: render a template folder into a message, and hand messages to an SMTP relay.

The only package that speaks SMTP: `smtp.py` (one message per connection), `pipelined.py`
(digests, many messages over one kept connection); `domain.py` names the sender's domain.
"""
