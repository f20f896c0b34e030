"""gunicorn's settings, read from the working directory however the web starts (Procfile,
docker-compose.yml, the image's CMD): command-line flags add to them.

Access log lines carry no client address, no user agent, no referrer and no query string.
Click counts promise that nothing knows who clicked (docs/clicks.md): a line pairing an
address with /r/<edition.article.section> would break it, and reader links' queries are
nobody's business either. Time, method, path, status, size and duration are enough to run it.
"""

access_log_format = '%(t)s "%(m)s %(U)s" %(s)s %(B)s %(M)sms'
