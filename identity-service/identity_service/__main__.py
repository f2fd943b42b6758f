from identity_service.bootstrap import serve

serve()
