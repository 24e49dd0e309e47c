"""Labelled data for quality.py: synthetic secrets, PII sentences from presidio-evaluator
templates, and benign agent traffic with near-miss tokens. Spans are UTF-8 byte offsets."""
import base64
import re
import string
import uuid

from faker import Faker

ALNUM = string.ascii_letters + string.digits
B32 = string.ascii_uppercase + "234567"
B64 = string.ascii_letters + string.digits + "+/"


def rand(rng, n, alphabet=ALNUM):
    return "".join(rng.choice(alphabet) for _ in range(n))


def tokens(rng):
    """One freshly generated credential per rule, in the issuer's format."""
    pem_body = "\n".join(rand(rng, 64, B64) for _ in range(rng.randint(6, 25)))
    kind = rng.choice(["RSA ", "EC ", "OPENSSH ", "", "DSA ", "ENCRYPTED "])
    return {
        "aws_access_key": rng.choice(["AKIA", "ASIA"]) + rand(rng, 16, B32),
        "aws_secret_key": rand(rng, 40, B64),
        "github_token": rng.choice(["ghp_", "gho_", "ghu_", "ghs_", "ghr_"]) + rand(rng, 36),
        "github_pat": "github_pat_" + rand(rng, 22) + "_" + rand(rng, 59),
        "gitlab_token": "glpat-" + rand(rng, 20, ALNUM + "_-"),
        "private_key": f"-----BEGIN {kind}PRIVATE KEY-----\n{pem_body}\n-----END {kind}PRIVATE KEY-----",
        "jwt": ".".join(base64.urlsafe_b64encode(json_bytes).decode().rstrip("=") for json_bytes in [
            b'{"alg":"HS256","typ":"JWT"}', ('{"sub":"%d","name":"%s","iat":%d}' % (rng.randint(1, 10**9), rand(rng, 8), rng.randint(10**9, 2 * 10**9))).encode(),
            bytes(rng.getrandbits(8) for _ in range(32))]),
        "slack_token": rng.choice(["xoxb-", "xoxp-"]) + f"{rng.randint(10**9, 10**13)}-{rng.randint(10**9, 10**13)}-" + rand(rng, 24),
        "slack_webhook": "https://hooks.slack.com/services/T" + rand(rng, 8, B32) + "/B" + rand(rng, 8, B32) + "/" + rand(rng, 24),
        "openai_key": rng.choice(["sk-proj-", "sk-svcacct-", "sk-"]) + rand(rng, 58, ALNUM + "_-") + "T3BlbkFJ" + rand(rng, 58, ALNUM + "_-"),
        "anthropic_key": "sk-ant-api03-" + rand(rng, 93, ALNUM + "_-") + "AA",
        "google_api_key": "AIza" + rand(rng, 35, ALNUM + "_-"),
        "stripe_key": rng.choice(["sk_live_", "rk_live_"]) + rand(rng, rng.randint(24, 99)),
        "generic_secret": rand(rng, rng.randint(16, 40), ALNUM + "!#%^*-_+"),
    }


# Where a token appears. {tok} is the token, {var} a variable name that suits the rule.
CONTEXTS = [
    'export {VAR}={tok}\n', '{VAR}="{tok}"\n', '  "{var}": "{tok}",\n', '{var}: {tok}\n',
    'client = Client({var}="{tok}")\n', 'headers = {{"Authorization": "Bearer {tok}"}}\n',
    'Here is the {var} you asked for: {tok}\nKeep it safe.', 'config.{var} = \'{tok}\';\n',
    '$ curl -H "X-Api-Key: {tok}" https://api.example.com/v1/items\n', '<add key="{var}" value="{tok}" />\n',
]
VARS = {
    "aws_access_key": "aws_access_key_id", "aws_secret_key": "aws_secret_access_key", "github_token": "github_token",
    "github_pat": "gh_pat", "gitlab_token": "gitlab_token", "private_key": "private_key", "jwt": "id_token",
    "slack_token": "slack_bot_token", "slack_webhook": "webhook_url", "openai_key": "openai_api_key",
    "anthropic_key": "anthropic_api_key", "google_api_key": "maps_api_key", "stripe_key": "stripe_api_key",
    "generic_secret": "db_password",
}


def secret_positives(rng, per_rule):
    docs = []
    for i in range(per_rule):
        for rule, tok in tokens(rng).items():
            var = VARS[rule]
            context = rng.choice(CONTEXTS)
            if rule == "generic_secret":
                # The generic rule is keyword-anchored: only assignment contexts apply.
                context = rng.choice([c for c in CONTEXTS if "{var}" in c and "Bearer" not in c and "Here is" not in c and "<add" not in c] + ['{VAR}="{tok}"\n'])
            if rule == "aws_secret_key":
                context = rng.choice(['{VAR}="{tok}"\n', '{var} = {tok}\n', '  "{var}": "{tok}",\n', 'export {VAR}={tok}\n'])
            before = "# deploy settings\n" if rng.random() < 0.5 else ""
            text = before + context.format(tok=tok, var=var, VAR=var.upper())
            start = text.index(tok)
            span = (len(text[:start].encode()), len(text[:start].encode()) + len(tok.encode()))
            docs.append({"id": f"secret-{rule}-{i}", "text": text, "span": span, "rule": rule})
    return docs


PII_RULES = {
    "email": {"email"}, "phone_number": {"phone"}, "credit_card_number": {"credit_card"},
    "iban": {"iban"}, "ssn": {"us_ssn"}, "ip_address": {"ipv4", "ipv6"},
}


def pii_sentences(rng, templates, samples):
    fake = Faker(["en_US", "en_GB", "de_DE", "fr_FR"])
    fake.seed_instance(rng.randint(0, 10**9))
    docs = []
    for t_index, template in enumerate(t for t in templates if t.strip()):
        for s in range(samples):
            text, labels = "", []
            pos = 0
            for match in re.finditer(r"{{(\w+)}}", template):
                text += template[pos:match.start()]
                name = match.group(1)
                value = fill(fake, rng, name)
                if name in PII_RULES:
                    start = len(text.encode())
                    labels.append((name, (start, start + len(value.encode()))))
                text += value
                pos = match.end()
            text += template[pos:]
            docs.append({"id": f"pii-{t_index}-{s}", "text": text, "labels": labels})
    return docs


def fill(fake, rng, name):
    en = fake["en_US"]
    if name == "ip_address":
        return en.ipv4() if rng.random() < 0.6 else en.ipv6()
    if name == "phone_number":
        return rng.choice(fake.locales and [fake[l] for l in fake.locales]).phone_number()
    if name == "iban":
        return rng.choice([fake[l] for l in fake.locales]).iban()
    if name in ("ssn", "credit_card_number", "email"):
        return getattr(en, name)()
    provider = getattr(en, name, None)
    if provider is None:
        alias = {"person": en.name, "nation_woman": en.country, "nation_plural": en.country, "nationality": en.country,
                 "age": lambda: str(rng.randint(18, 90)), "us_driver_license": lambda: rand(rng, 9, string.digits),
                 "organization": en.company, "first_name_nonbinary": en.first_name}.get(name)
        return str(alias()) if alias else en.word()
    return str(provider())


from benign import benign_traffic  # noqa: E402,F401  (re-exported for quality.py)
