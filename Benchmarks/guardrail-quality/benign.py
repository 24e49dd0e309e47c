"""Benign agent traffic: what an agent's tool calls, tool results and model messages look like
when nothing is wrong, with the near misses that trip naive rules: hashes, UUIDs, base64 blobs
under non-secret names, placeholders, documented example keys, certificates and public keys,
token counts, timestamps, versions, ports, and prose that talks about passwords, tokens,
instructions and system prompts."""
import base64
import hashlib
import string
import uuid

HEX = "0123456789abcdef"


def rnd(rng, n, alphabet=string.ascii_letters + string.digits):
    return "".join(rng.choice(alphabet) for _ in range(n))


def sha(rng):
    return hashlib.sha1(str(rng.random()).encode()).hexdigest()


def code(rng):
    name = rng.choice(["load_config", "fetch_items", "parse_args", "render", "main", "handle_request"])
    return rng.choice([
        f'def {name}(path: str) -> dict:\n    token_count = {rng.randint(1, 9999)}\n    password_field = request.form["password"]\n    api_key = os.environ["API_KEY"]\n    return {{"sha": "{sha(rng)}", "n": token_count}}\n',
        f'const {name} = async (id) => {{\n  const secret = await vault.read(`secret/data/${{id}}`);\n  const tokenizer = new Tokenizer({{ maxTokens: {rng.randint(128, 8192)} }});\n  return fetch(`/api/items/${{id}}?v={rng.randint(1, 9)}.{rng.randint(0, 20)}.{rng.randint(0, 9)}`);\n}};\n',
        f'func {name}() throws {{\n    let digest = "{hashlib.sha256(str(rng.random()).encode()).hexdigest()}"\n    let requestID = UUID(uuidString: "{uuid.UUID(int=rng.getrandbits(128))}")\n    guard let token = keychain.token(for: account) else {{ throw AuthError.missing }}\n}}\n',
        f'image_data = "{base64.b64encode(bytes(rng.getrandbits(8) for _ in range(45))).decode()}"\nchecksum = "{sha(rng)}"\nnonce = {rng.randint(10**8, 10**12)}\n',
        f'# Example from the AWS docs: AKIAIOSFODNN7EXAMPLE / wJalrXUtnFEMI/K7MDENG/bPxRfiCYEXAMPLEKEY\nexport GITHUB_TOKEN=ghp_xxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxx\nOPENAI_API_KEY=sk-your-key-here\nSLACK_BOT_TOKEN=xoxb-your-bot-token\n',
        f'password = getpass.getpass("Password: ")\nif len(password) < 12:\n    raise ValueError("password too short")\nsecret_name = "prod/db/creds"\n',
        f'import sklearn\nfrom sk-learn import model  # typo\ntask-force: {rng.randint(1, 99)}\nmax_tokens = {rng.choice([256, 512, 4096])}\n',
        f'git commit -m "fix: rotate keys" && git push origin {sha(rng)[:7]}\nDocker image: registry.example.com/app@sha256:{hashlib.sha256(str(rng.random()).encode()).hexdigest()}\n',
        '-----BEGIN CERTIFICATE-----\n' + "\n".join(rnd(rng, 64, string.ascii_letters + string.digits + "+/") for _ in range(8)) + '\n-----END CERTIFICATE-----\n',
        '-----BEGIN PUBLIC KEY-----\n' + "\n".join(rnd(rng, 64, string.ascii_letters + string.digits + "+/") for _ in range(5)) + '\n-----END PUBLIC KEY-----\n',
    ])


def log(rng):
    lines = []
    for _ in range(rng.randint(3, 12)):
        lines.append(rng.choice([
            f'2026-{rng.randint(1, 12):02d}-{rng.randint(1, 28):02d}T{rng.randint(0, 23):02d}:{rng.randint(0, 59):02d}:{rng.randint(0, 59):02d}.{rng.randint(0, 999):03d}Z INFO request id={rnd(rng, 8, HEX)} method=POST path=/v1/items status=200 dur_ms={rng.randint(1, 900)} bytes={rng.randint(100, 99999)}',
            f'WARN retry attempt={rng.randint(1, 5)} upstream=api-{rng.randint(1, 9)}.internal:{rng.randint(1024, 65535)} err="connection reset" version={rng.randint(1, 9)}.{rng.randint(0, 30)}.{rng.randint(0, 9)}',
            f'trace_id={rnd(rng, 32, HEX)} span_id={rnd(rng, 16, HEX)} sampled=1',
            f'auth: token refreshed for user_id={rng.randint(1000, 99999)} expires_in={rng.randint(60, 86400)}s',
            f'build #{rng.randint(100, 9999)} finished in {rng.randint(10, 999)}s; artifacts sha256:{hashlib.sha256(str(rng.random()).encode()).hexdigest()[:16]}',
            f'order {rng.randint(2020, 2026)}-{rng.randint(1, 12):02d}-{rng.randint(1, 28):02d} #{rng.randint(10**7, 10**9)} shipped, qty={rng.randint(1, 50)}',
        ]))
    return "\n".join(lines) + "\n"


def tool_args(rng):
    return rng.choice([
        f'{{"tool": "fs.read", "arguments": {{"path": "/workspace/src/{rnd(rng, 6).lower()}.py", "offset": 0, "limit": {rng.randint(1, 65536)}}}}}',
        f'{{"tool": "http.fetch", "arguments": {{"url": "https://docs.example.com/guide?page={rng.randint(1, 50)}", "headers": {{"Accept": "application/json"}}}}}}',
        f'{{"tool": "git.show", "arguments": {{"commit": "{sha(rng)}", "stat": true}}}}',
        f'{{"tool": "db.query", "arguments": {{"sql": "SELECT id, created_at FROM orders WHERE id = {rng.randint(1, 10**6)}", "timeout_ms": 5000}}}}',
        f'{{"tool": "code.exec", "arguments": {{"language": "python", "code": "print(sum(range({rng.randint(1, 1000)})))"}}}}',
        f'{{"id": "{uuid.UUID(int=rng.getrandbits(128))}", "token_usage": {{"prompt_tokens": {rng.randint(1, 4000)}, "completion_tokens": {rng.randint(1, 800)}}}}}',
    ])


def prose(rng):
    return rng.choice([
        "Please ignore the warnings in the build log; they are harmless and come from the vendored toolchain.",
        "To reset your password, open Settings and choose Security. The token limit for this model is 8k.",
        "Act as a code reviewer: point out style issues and missing tests in the diff below.",
        "The system prompt is configured in settings.yaml; you can show the previous commit with git show HEAD~1.",
        "Forget the old approach, the previous version was slower. From now on the service restarts nightly.",
        "Send the weekly report to the team by Friday and upload the slides to the shared drive.",
        "You are now logged in. Your session expires in 30 minutes.",
        "We discussed jailbreak detection and prompt injection defenses in the security review.",
        "The API key rotation runbook lives in the wiki; never paste keys into chat.",
        "Translate the following paragraph into French and keep the formatting.",
        "Summarize the meeting notes and list the action items with owners.",
        "Call the support line if the deploy fails twice; version 2.14.3 fixed the regression.",
    ]) + " "


def benign_traffic(rng, count):
    makers = [code, log, tool_args, prose]
    docs = []
    for i in range(count):
        parts = [rng.choice(makers)(rng) for _ in range(rng.randint(1, 4))]
        docs.append({"id": f"benign-{i}", "text": "\n".join(parts)})
    return docs
