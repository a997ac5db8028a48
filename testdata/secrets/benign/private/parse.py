BEGIN = "-----BEGIN RSA PRIVATE KEY-----"
END = "-----END RSA PRIVATE KEY-----"
TEMPLATE = """-----BEGIN PRIVATE KEY-----
...
-----END PRIVATE KEY-----"""


def is_key(text):
    return text.startswith(BEGIN)
