from merge_service.bootstrap import serve

serve()
