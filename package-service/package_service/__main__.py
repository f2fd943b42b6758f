from package_service.bootstrap import serve

serve()
