"""Pure rules more than one process needs, kept once: domain names (`domains`), customer
numbers (`customers`), card numbers (`cards`), the fields only a signed form may change
(`written_only`), the states of a merge (`merges`), the markets and their currencies (`markets`), the shape of an id (`ids`),
the product codes (`products`) and the technical settings of a package (`package_settings`).

No I/O and no framework: each function takes text and answers a value or raises a
`cc_common.errors.DomainError` naming the field at fault, so the gateway and the service that
owns a rule give the same answer to the same input.
"""
