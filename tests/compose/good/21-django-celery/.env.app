DJANGO_SETTINGS_MODULE=proj.settings
SECRET_KEY="dev-only"
