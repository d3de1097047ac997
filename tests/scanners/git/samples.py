"""True- and false-positive samples for every default rule, built at run time from random
characters (so this file holds no secret-looking literal)."""

from tests.scanners.git.gitrepo import ALNUM, UPPER, rand

HEX = "0123456789abcdef"
LOWER_DIGITS = "abcdefghijklmnopqrstuvwxyz0123456789"


PATHS = {"rails-master-key": "config/master.key"}  # rules with a path; the others are tried in app/config.py


def samples() -> dict[str, tuple[str, str]]:
    """rule id -> (a line the rule must flag, a similar line it must not flag)."""
    akia = "AKIA" + rand(UPPER + "234567", 16)
    return {
        "aws-access-token": (f"aws_key_id = {akia}", "key = " + "AKIA" + "IOSFODNN7EXAMPLE"),
        "aws-secret-access-key": (f"aws_secret_access_key = {rand(ALNUM + '/+', 40)}",
                                  "aws_secret_access_key = " + "A" * 40),
        "github-pat": ("token: ghp_" + rand(ALNUM, 36), "token: ghp_" + rand(ALNUM, 20)),
        "github-oauth": ("gho_" + rand(ALNUM, 36), "gho_" + "a" * 36),
        "github-app-token": ("ghs_" + rand(ALNUM, 36), "ghs_" + rand(ALNUM, 30)),
        "github-refresh-token": ("ghr_" + rand(ALNUM, 36), "ghr_" + rand(ALNUM, 12)),
        "github-fine-grained-pat": ("github_pat_" + rand(ALNUM, 22) + "_" + rand(ALNUM, 59), "github_pat_xyz"),
        "gitlab-pat": ("GITLAB=glpat-" + rand(ALNUM, 20), "glpat-" + "x" * 20),
        "slack-bot-token": ("xoxb-" + rand("0123456789", 12) + "-" + rand("0123456789", 12) + "-" + rand(ALNUM, 24),
                            "xoxb-not-a-token"),
        "slack-user-token": ("xoxp-" + "-".join(rand("0123456789", 12) for _ in range(3)) + "-" + rand(HEX, 32),
                             "xoxp-123"),
        "slack-app-token": ("xapp-1-A" + rand(UPPER + "0123456789", 10) + "-" + rand("0123456789", 13) + "-"
                            + rand(HEX, 64), "xapp-token-here"),
        "slack-webhook-url": ("https://hooks.slack.com/services/T" + rand(UPPER, 8) + "/B" + rand(UPPER, 8) + "/"
                              + rand(ALNUM, 24), "https://hooks.slack.com/services/"),
        "stripe-access-token": ("STRIPE=sk_" + "live_" + rand(ALNUM, 24), "sk_live_" + "x"),
        "gcp-api-key": ('key = "AIza' + rand(ALNUM + "_-", 35) + '"', 'key = "AIza' + rand(ALNUM, 20) + '"'),
        "private-key": ("-----BEGIN OPENSSH PRIVATE KEY-----\n" + "\n".join(rand(ALNUM, 64) for _ in range(3))
                        + "\n-----END OPENSSH PRIVATE KEY-----",
                        "-----BEGIN PUBLIC KEY-----\nabc\n-----END PUBLIC KEY-----"),
        "jwt": ("auth: eyJ" + rand(ALNUM, 30) + ".eyJ" + rand(ALNUM, 40) + "." + rand(ALNUM + "_-", 43),
                "eyJhbGciOiJIUzI1NiJ9 alone"),
        "openai-api-key": ("OPENAI=sk-proj-" + rand(ALNUM, 40) + "T3BlbkFJ" + rand(ALNUM, 40), "sk-proj-short"),
        "anthropic-api-key": ("ANTHROPIC=sk-ant-api03-" + rand(ALNUM, 93) + "AA", "sk-ant-api03-short"),
        "npm-access-token": ("//registry.npmjs.org/:_authToken=npm_" + rand(LOWER_DIGITS, 36), "npm_install_cache"),
        "pypi-upload-token": ("password = " + "pypi-AgEIcHlwaS5vcmc" + rand(ALNUM, 70), "pypi-AgEIcHlwaS5vcmc"),
        "sendgrid-api-token": ("SG." + rand(ALNUM, 22) + "." + rand(ALNUM, 43), "SG.short.value"),
        "twilio-api-key": ("TWILIO=SK" + rand(HEX, 32), "SK" + "0" * 32),
        "mailchimp-api-key": ("MC=" + rand(HEX, 32) + "-us6", "0" * 32 + "-us6"),
        "shopify-token": ("shpat_" + rand(HEX, 32), "shpat_" + rand(HEX, 12)),
        "vault-service-token": ("VAULT_TOKEN=hvs." + rand(ALNUM, 90), "VAULT_TOKEN=hvs.xxx"),
        "terraform-cloud-token": ("token = " + rand(LOWER_DIGITS, 14) + ".atlasv1." + rand(LOWER_DIGITS, 67),
                                  "atlasv1 docs"),
        "digitalocean-token": ("dop_v1_" + rand(HEX, 64), "dop_v1_" + rand(HEX, 10)),
        "huggingface-access-token": ("HF=hf_" + rand("abcdefghijklmnopqrstuvwxyzABCDEFGHIJKLMNOPQRSTUVWXYZ", 34),
                                     "hf_hub_download"),
        "azure-ad-client-secret": ("secret: " + rand(ALNUM, 3) + "8Q~" + rand(ALNUM, 34), "see Q~ in docs"),
        "telegram-bot-api-token": ("TG=" + rand("0123456789", 10) + ":AA" + rand(ALNUM, 33), "12:AA"),
        "databricks-api-token": ("dapi" + rand(HEX, 32), "dapi" + rand(HEX, 8)),
        "square-access-token": ("sq0atp-" + rand(ALNUM, 22), "sq0atp-x"),
        "square-secret": ("sq0csp-" + rand(ALNUM, 43), "sq0csp-x"),
        "url-credentials": ("DB=postgres://app:" + rand(ALNUM, 16) + "@db.internal/app",
                            "DB=postgres://app:${DB_PASSWORD}@db.internal/app"),
        "putty-private-key": ("PuTTY-User-Key-File-3: ssh-ed25519\nEncryption: none\nComment: deploy\nPublic-Lines: 2\n"
                              + rand(ALNUM, 64) + "\n" + rand(ALNUM, 16) + "\nPrivate-Lines: 1\n" + rand(ALNUM, 44)
                              + "\nPrivate-MAC: " + rand(HEX, 64), "PuTTY-User-Key-File-3: see the docs"),
        "password-hash": ("deploy:$apr1$" + rand(ALNUM, 8) + "$" + rand(ALNUM + "./", 22), "deploy:$apr1$short"),
        "rails-master-key": (rand(HEX, 32), "see config/credentials.yml.enc"),
        "jdbc-oracle-credentials": ("url=jdbc:oracle:thin:app/" + rand(ALNUM, 14) + "@db.prod.internal:1521:ORCL",
                                    "url=jdbc:oracle:thin:@db.prod.internal:1521:ORCL"),
        "generic-api-key": ("api_key = '" + rand(ALNUM, 32) + "'", "api_key = 'not_a_real_value'"),
    }
