"""The technical settings of a package (what a package login may change): package-service
stores and applies them (package_service/domain/model.py), the gateway documents and checks
each one with its own values."""

from __future__ import annotations

PHP_VERSIONS = ("8.1", "8.2", "8.3")
SWITCH = ("true", "false")
WWW_REDIRECTS = ("none", "to_www", "from_www")
PHP_MEMORY_LIMIT_MB = (64, 1024)  # the smallest and the largest, in MB

# name -> default
DEFAULTS = {
    "php_version": "8.3",
    "https_redirect": "true",
    "www_redirect": "none",
    "php_memory_limit_mb": "256",
}
