from contract_service.bootstrap import serve

serve()
