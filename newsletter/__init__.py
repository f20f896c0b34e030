"""The newsletter service. The app is put together in newsletter/app.py (create_app); this
package's own import stays empty, so that importing one part (the models, a stage) loads that
part only, not every page of the site."""
