"""A labelled corpus of credential files and decoys, generated from a seeded RNG at run time: fake
but well-formed values (no secret-looking literal lives in this source tree). Each credential file
says which of its lines hold a secret; decoy files hold none.

In a line template, `{S}` marks a labelled secret line; `{pw}`, `{tok}`, `{hex32}`, `{b64_40}`,
`{alnum16}` ... are filled with fresh random values."""

from __future__ import annotations

import base64
import random
import re
import string
from dataclasses import dataclass, field

ALNUM = string.ascii_letters + string.digits
UPPER = string.ascii_uppercase
HEX = "0123456789abcdef"
B64 = ALNUM + "+/"
SYMBOLS = "!%^*-_+.~"


@dataclass
class CorpusFile:
    path: str
    fmt: str
    text: str
    secret_lines: list[int] = field(default_factory=list)  # 1-based

    @property
    def decoy(self) -> bool:
        return not self.secret_lines


class Values:
    """Random values for one corpus; every value drawn is remembered (canary checks)."""

    def __init__(self, seed: int):
        self.rng = random.Random(seed)
        self.drawn: list[str] = []

    def _keep(self, value: str) -> str:
        self.drawn.append(value)
        return value

    def chars(self, alphabet: str, n: int) -> str:
        return "".join(self.rng.choice(alphabet) for _ in range(n))

    def pw(self) -> str:
        """A password: mixed case, digits, a symbol or two, 12-20 characters."""
        n = self.rng.randint(12, 20)
        body = list(self.chars(ALNUM, n - 2) + self.chars(SYMBOLS, 1) + self.chars(string.digits, 1))
        self.rng.shuffle(body)
        return self._keep(self.chars(UPPER, 1) + "".join(body))

    def alnum(self, n: int) -> str:
        return self._keep(self.chars(ALNUM, n))

    def hex(self, n: int) -> str:
        return self._keep(self.chars(HEX, n))

    def b64(self, n_bytes: int) -> str:
        return self._keep(base64.b64encode(self.rng.randbytes(n_bytes)).decode())

    def b64_of(self, text: str) -> str:
        return self._keep(base64.b64encode(text.encode()).decode())

    def akia(self) -> str:
        return self._keep("AKIA" + self.chars(UPPER + "234567", 16))

    def aws_secret(self) -> str:
        return self._keep(self.chars(ALNUM + "/+", 40))

    def crypt_chars(self, n: int) -> str:
        return self.chars(ALNUM + "./", n)


_FIELD = re.compile(r"\{(pw|tok|hex32|hex64|b64_32|b64_40|alnum16|alnum24|alnum32|akia|awssecret|user|auth|b64pw"
                    r"|bcrypt|apr1|sha512crypt|ssha|laravel)\}")


def _fill(v: Values, template: str) -> str:
    def one(m):
        name = m.group(1)
        return {
            "pw": v.pw, "tok": lambda: v.alnum(32), "hex32": lambda: v.hex(32), "hex64": lambda: v.hex(64),
            "b64_32": lambda: v.b64(32), "b64_40": lambda: v.b64(40), "alnum16": lambda: v.alnum(16),
            "alnum24": lambda: v.alnum(24), "alnum32": lambda: v.alnum(32), "akia": v.akia,
            "awssecret": v.aws_secret, "user": lambda: v.chars(string.ascii_lowercase, 6),
            "auth": lambda: v.b64_of(v.chars(string.ascii_lowercase, 7) + ":" + v.pw()),
            "b64pw": lambda: v.b64_of(v.pw()),
            "bcrypt": lambda: v._keep("$2y$10$" + v.crypt_chars(53)),
            "apr1": lambda: v._keep("$apr1$" + v.crypt_chars(8) + "$" + v.crypt_chars(22)),
            "sha512crypt": lambda: v._keep("$6$" + v.crypt_chars(16) + "$" + v.crypt_chars(86)),
            "ssha": lambda: v._keep("{SSHA}" + v.b64(24)),
            "laravel": lambda: "base64:" + v.b64(32),
        }[name]()
    return _FIELD.sub(one, template)


def _file(v: Values, path: str, fmt: str, template: str) -> CorpusFile:
    """`template`: lines; a line starting with `{S}` is a labelled secret line."""
    lines, labelled = [], []
    for n, raw in enumerate(template.strip("\n").split("\n"), 1):
        if raw.startswith("{S}"):
            labelled.append(n)
            raw = raw[3:]
        lines.append(_fill(v, raw))
    return CorpusFile(path, fmt, "\n".join(lines) + "\n", labelled)


CREDENTIAL_FILES = [
    ("config/app.ini", "ini", """
[database]
host = db1.internal.acme-corp.net
user = app
{S}password = {pw}
[smtp]
server = smtp.acme-corp.net
{S}smtp_password = {pw}
[api]
{S}api_key = {alnum32}
"""),
    ("etc/service.ini", "ini", """
[ldap]
bind_dn = cn=svc,dc=acme,dc=net
{S}bind_password={pw}
[oauth]
client_id = acme-billing
{S}client_secret = {alnum32}
"""),
    ("src/main/resources/application.properties", "properties", """
spring.datasource.url=jdbc:postgresql://pg.acme-corp.net:5432/billing
spring.datasource.username=billing
{S}spring.datasource.password={pw}
spring.mail.host=smtp.acme-corp.net
{S}spring.mail.password={pw}
{S}app.secret.key={alnum32}
"""),
    ("gradle.properties", "properties", """
org.gradle.jvmargs=-Xmx2g
signing.keyId=4F2A91C3
{S}signing.password={pw}
ossrhUsername=acme-release
{S}ossrhPassword={pw}
"""),
    (".env", "env", """
APP_ENV=production
DB_HOST=db1.internal.acme-corp.net
{S}DB_PASSWORD={pw}
{S}REDIS_PASSWORD="{pw}"
{S}JWT_SECRET='{alnum32}'
{S}MAILGUN_API_KEY={hex32}
DEBUG=false
"""),
    ("deploy/.env.production", "env", """
{S}SECRET_KEY={alnum32}
{S}SENDGRID_PASSWORD={pw}
{S}ADMIN_TOKEN={tok}
"""),
    ("laravel/.env", "laravel", """
APP_NAME=Shop
{S}APP_KEY={laravel}
DB_CONNECTION=mysql
DB_USERNAME=shop
{S}DB_PASSWORD={pw}
"""),
    ("scripts/env.sh", "shell", """
#!/bin/sh
export AWS_REGION=eu-west-1
{S}export DB_PASS={pw}
{S}export API_TOKEN="{tok}"
{S}export CLIENT_SECRET='{alnum24}'
"""),
    ("bin/run-backup.sh", "command-line", """
#!/bin/bash
set -e
{S}mysqldump -u backup -p{pw} shop > /var/backups/shop.sql
{S}mysql --user=root --password={pw} -e 'FLUSH LOGS'
{S}sshpass -p '{pw}' scp /var/backups/shop.sql backup@vault.acme-corp.net:/srv
{S}redis-cli -h cache.acme-corp.net -a {pw} BGSAVE
"""),
    ("bin/fetch.sh", "command-line", """
#!/bin/sh
{S}curl -sf -u deploy:{pw} https://nexus.acme-corp.net/repository/releases/app.jar -o app.jar
{S}docker login -u ci --password {pw} registry.acme-corp.net
"""),
    ("config/database.yml", "yaml", """
production:
  adapter: postgresql
  host: pg.acme-corp.net
  username: shop
{S}  password: {pw}
"""),
    ("src/main/resources/application.yml", "yaml", """
spring:
  security:
    oauth2:
      client:
        registration:
          github:
            client-id: 8c1f2e
{S}            client-secret: {hex32}
  rabbitmq:
    host: mq.acme-corp.net
{S}    password: "{pw}"
"""),
    ("group_vars/all.yml", "yaml", """
ansible_user: deploy
{S}ansible_become_pass: {pw}
{S}mysql_root_password: '{pw}'
"""),
    ("docker-compose.yml", "yaml", """
services:
  db:
    image: postgres:16
    environment:
{S}      - POSTGRES_PASSWORD={pw}
  mysql:
    image: mysql:8
    environment:
{S}      MYSQL_ROOT_PASSWORD: {pw}
"""),
    ("k8s/secret.yaml", "k8s-secret", """
apiVersion: v1
kind: Secret
metadata:
  name: billing
type: Opaque
data:
{S}  DB_PASSWORD: {b64pw}
{S}  api-token: {b64pw}
{S}  SMTP_URL_PASS: {b64pw}
"""),
    ("k8s/stringdata.yaml", "k8s-secret", """
apiVersion: v1
kind: Secret
metadata:
  name: worker
stringData:
{S}  password: {pw}
"""),
    ("config/settings.json", "json", """
{
  "db": {
    "host": "db1.internal.acme-corp.net",
{S}    "password": "{pw}"
  },
{S}  "apiKey": "{alnum32}",
{S}  "client_secret": "{alnum24}"
}
"""),
    ("appsettings.json", "dotnet", """
{
  "ConnectionStrings": {
{S}    "Default": "Server=tcp:acme.database.windows.net,1433;Database=shop;User ID=shop;Password={pw};Encrypt=True;"
  },
{S}  "Jwt": { "Key": "{alnum32}", "Issuer": "acme" }
}
"""),
    ("Web.config", "xml", """
<configuration>
  <appSettings>
{S}    <add key="ApiKey" value="{alnum32}" />
    <add key="Environment" value="production" />
  </appSettings>
  <connectionStrings>
{S}    <add name="Shop" connectionString="Data Source=sql01;Initial Catalog=shop;User Id=sa;Password={pw};" />
  </connectionStrings>
</configuration>
"""),
    ("conf/settings.xml", "xml", """
<settings>
  <servers>
    <server>
      <id>releases</id>
      <username>deploy</username>
{S}      <password>{pw}</password>
    </server>
  </servers>
</settings>
"""),
    ("src/main/resources/hibernate.cfg.xml", "xml", """
<hibernate-configuration>
  <session-factory>
    <property name="hibernate.connection.username">shop</property>
{S}    <property name="hibernate.connection.password">{pw}</property>
  </session-factory>
</hibernate-configuration>
"""),
    ("config/ldap.xml", "xml", """
<ldap>
{S}  <bind user="cn=svc" password="{pw}" />
</ldap>
"""),
    ("pyproject-secrets.toml", "toml", """
[tool.deploy]
host = "deploy.acme-corp.net"
{S}password = "{pw}"
{S}token = "{tok}"
"""),
    ("netlify.toml", "toml", """
[build.environment]
NODE_VERSION = "20"
{S}SEARCH_API_KEY = "{alnum32}"
"""),
    ("includes/config.php", "php", """
<?php
define('DB_HOST', 'db1.internal.acme-corp.net');
define('DB_USER', 'shop');
{S}define('DB_PASSWORD', '{pw}');
$config = array(
{S}    'password' => '{pw}',
{S}    'api_secret' => "{alnum32}",
);
{S}$smtp_password = '{pw}';
"""),
    ("wp-config.php", "wordpress", """
<?php
define( 'DB_NAME', 'wordpress' );
{S}define( 'DB_PASSWORD', '{pw}' );
{S}define( 'AUTH_KEY',         '{alnum32}{alnum32}' );
{S}define( 'SECURE_AUTH_KEY',  '{alnum32}{alnum32}' );
{S}define( 'LOGGED_IN_KEY',    '{alnum32}{alnum32}' );
{S}define( 'NONCE_KEY',        '{alnum32}{alnum32}' );
{S}define( 'AUTH_SALT',        '{alnum32}{alnum32}' );
{S}define( 'SECURE_AUTH_SALT', '{alnum32}{alnum32}' );
{S}define( 'LOGGED_IN_SALT',   '{alnum32}{alnum32}' );
{S}define( 'NONCE_SALT',       '{alnum32}{alnum32}' );
"""),
    ("shop/settings.py", "django", """
import os
DEBUG = False
{S}SECRET_KEY = '{alnum32}{alnum16}'
DATABASES = {
    'default': {
        'ENGINE': 'django.db.backends.postgresql',
        'USER': 'shop',
{S}        'PASSWORD': '{pw}',
    }
}
{S}EMAIL_HOST_PASSWORD = "{pw}"
"""),
    ("worker/config.py", "python", """
import redis
{S}client = redis.Redis(host="cache.acme-corp.net", password="{pw}")
{S}API_TOKEN = "{tok}"
{S}conn = connect(user="etl", passwd='{pw}', host="db1.internal.acme-corp.net")
"""),
    ("web/src/config.js", "javascript", """
const config = {
  endpoint: 'https://api.acme-corp.net',
{S}  apiKey: '{alnum32}',
{S}  password: "{pw}",
};
{S}export const authToken = `{tok}`;
module.exports = config;
"""),
    ("server/db.ts", "javascript", """
import { Pool } from 'pg';
export const pool = new Pool({
  host: 'pg.acme-corp.net',
  user: 'api',
{S}  password: '{pw}',
});
"""),
    ("src/main/java/com/acme/Db.java", "java", """
package com.acme;
public class Db {
{S}    private static final String PASSWORD = "{pw}";
    void init(DataSource ds) {
{S}        ds.setPassword("{pw}");
{S}        props.put("mail.smtp.password", "{pw}");
    }
}
"""),
    ("internal/store/config.go", "go", """
package store

var cfg = Config{
	Host:     "db1.internal.acme-corp.net",
{S}	Password: "{pw}",
}

{S}const apiToken = "{tok}"
"""),
    ("infra/main.tf", "terraform", """
resource "aws_db_instance" "shop" {
  engine   = "postgres"
  username = "shop"
{S}  password = "{pw}"
}
resource "azuread_application_password" "ci" {
{S}  client_secret = "{alnum32}"
}
"""),
    ("app/models/payment.rb", "ruby", """
Stripe.api_version = '2024-04-10'
{S}config.api_key = "{alnum32}"
{S}PASSWORD = '{pw}'
"""),
    ("src/Settings.cs", "csharp", """
public static class Settings {
{S}    public const string ApiKey = "{alnum32}";
{S}    var password = "{pw}";
}
"""),
    ("config/dsn.txt.conf", "dsn", """
{S}DATABASE_URL=postgres://shop:{alnum16}@pg.acme-corp.net:5432/shop
{S}MONGO_URI=mongodb+srv://etl:{alnum16}@cluster0.x7k2p.mongodb.net/etl
{S}PG_DSN="host=pg.acme-corp.net port=5432 user=etl password={pw} dbname=etl"
"""),
    ("config/jdbc.properties", "jdbc", """
{S}jdbc.url=jdbc:mysql://db1.internal.acme-corp.net:3306/shop?user=shop&password={alnum16}&useSSL=true
{S}oracle.url=jdbc:oracle:thin:shop/{alnum16}@ora.acme-corp.net:1521:SHOP
{S}mssql.url=jdbc:sqlserver://mssql.acme-corp.net:1433;databaseName=shop;user=sa;password={alnum16};
"""),
    ("redis.conf", "redis", """
bind 0.0.0.0
port 6379
{S}requirepass {pw}
{S}masterauth {pw}
"""),
    ("api.http", "http", """
GET https://api.acme-corp.net/v1/orders
{S}Authorization: Bearer {alnum32}

GET https://nexus.acme-corp.net/service/rest
{S}Authorization: Basic {auth}
"""),
    ("home/.netrc", "netrc", """
{S}machine api.acme-corp.net login deploy password {pw}
machine git.acme-corp.net
  login ci
{S}  password {pw}
"""),
    ("home/.pgpass", "pgpass", """
# host:port:db:user:password
{S}pg.acme-corp.net:5432:shop:shop:{pw}
{S}*:*:*:etl:{pw}
"""),
    ("home/.git-credentials", "git-credentials", """
{S}https://deploy:{alnum24}@git.acme-corp.net
{S}https://ci-bot:{alnum24}@gitlab.acme-corp.net
"""),
    ("etc/apache2/.htpasswd", "htpasswd", """
{S}admin:{apr1}
{S}deploy:{bcrypt}
{S}monitor:{ssha}
"""),
    ("etc/shadow", "shadow", """
{S}root:{sha512crypt}:19700:0:99999:7:::
daemon:*:19700:0:99999:7:::
{S}deploy:{sha512crypt}:19700:0:99999:7:::
"""),
    ("home/.docker/config.json", "docker", """
{
  "auths": {
    "registry.acme-corp.net": {
{S}      "auth": "{auth}"
    },
    "https://index.docker.io/v1/": {
{S}      "auth": "{auth}"
    }
  }
}
"""),
    ("home/.dockercfg", "docker", """
{"registry.acme-corp.net": {"email": "ci@acme-corp.net",
{S} "auth": "{auth}"}}
"""),
    ("home/.npmrc", "npmrc", """
registry=https://npm.acme-corp.net/
{S}_auth={auth}
{S}//npm.acme-corp.net/:_authToken={b64_32}
always-auth=true
"""),
    ("home/.pypirc", "pypirc", """
[distutils]
index-servers = internal
[internal]
repository = https://pypi.acme-corp.net/
username = release
{S}password = {pw}
"""),
    ("home/.aws/credentials", "aws-credentials", """
[default]
{S}aws_access_key_id = {akia}
{S}aws_secret_access_key = {awssecret}
[deploy]
{S}aws_access_key_id = {akia}
{S}aws_secret_access_key = {awssecret}
{S}aws_session_token = {b64_40}
"""),
    ("home/.s3cfg", "s3cfg", """
[default]
{S}access_key = {akia}
{S}secret_key = {awssecret}
host_base = s3.amazonaws.com
{S}gpg_passphrase = {pw}
"""),
    ("home/.boto", "boto", """
[Credentials]
{S}aws_access_key_id = {akia}
{S}aws_secret_access_key = {awssecret}
{S}gs_secret_access_key = {alnum32}
"""),
    ("home/.config/filezilla/sitemanager.xml", "filezilla", """
<?xml version="1.0" encoding="UTF-8"?>
<FileZilla3>
  <Servers>
    <Server>
      <Host>ftp.acme-corp.net</Host>
      <User>deploy</User>
{S}      <Pass encoding="base64">{b64pw}</Pass>
    </Server>
    <Server>
      <Host>sftp.acme-corp.net</Host>
{S}      <Pass encoding="base64">{b64pw}</Pass>
    </Server>
  </Servers>
</FileZilla3>
"""),
    ("home/.local/share/DBeaverData/workspace6/General/.dbeaver/data-sources.json", "dbeaver", """
{
  "connections": {
    "postgres-jdbc-1": {
      "configuration": {
        "host": "pg.acme-corp.net",
        "user": "analyst",
{S}        "password": "{pw}"
      }
    }
  }
}
"""),
    (".idea/dataSources.local.xml", "datagrip", """
<component name="dataSourceStorageLocal">
  <data-source name="shop@pg">
    <property name="user" value="shop" />
{S}    <property name="password" value="{pw}" />
  </data-source>
</component>
"""),
    (".idea/webServers.xml", "ide-deployment", """
<component name="WebServers">
  <webServer id="1" name="prod">
{S}    <fileTransfer host="sftp.acme-corp.net" port="22" username="deploy" password="{pw}" />
  </webServer>
</component>
"""),
    (".idea/deployment.xml", "ide-deployment", """
<component name="PublishConfigData">
  <serverData>
    <option name="host" value="sftp.acme-corp.net" />
{S}    <option name="password" value="{pw}" />
  </serverData>
</component>
"""),
    (".vscode/sftp.json", "ide-deployment", """
{
  "host": "sftp.acme-corp.net",
  "username": "deploy",
{S}  "password": "{pw}",
  "remotePath": "/srv/www"
}
"""),
    ("config/secrets.yml", "rails", """
production:
{S}  secret_key_base: {hex64}{hex64}
"""),
    ("config/mail.yml", "yaml", """
smtp:
  address: smtp.acme-corp.net
  user_name: notifications
{S}  password: {pw}
"""),
    ("config/database.php", "php", """
<?php
return [
    'mysql' => [
        'username' => env('DB_USERNAME', 'shop'),
{S}        'password' => env('DB_PASSWORD', '{pw}'),
    ],
];
"""),
    ("home/.config/rclone/rclone.conf", "rclone", """
[backup]
type = s3
{S}access_key_id = {akia}
{S}secret_access_key = {awssecret}
"""),
    ("etc/wpa_supplicant/wpa_supplicant.conf", "wpa", """
network={
    ssid="acme-office"
{S}    psk="{pw}"
}
"""),
    ("home/.msmtprc", "msmtp", """
account default
host smtp.acme-corp.net
user alerts
{S}password {pw}
"""),
    ("home/.my.cnf", "mysql-client", """
[client]
user=root
{S}password={pw}
"""),
    ("home/.config/pip/pip.conf", "pip", """
[global]
{S}index-url = https://deploy:{alnum24}@pypi.acme-corp.net/simple
"""),
    ("infra/prod.tfvars", "terraform", """
region      = "eu-west-1"
{S}db_password = "{pw}"
{S}api_token   = "{tok}"
"""),
    ("local.settings.json", "azure", """
{
  "Values": {
{S}    "AzureWebJobsStorage": "DefaultEndpointsProtocol=https;AccountName=acmefn;AccountKey={b64_40};EndpointSuffix=x",
    "FUNCTIONS_WORKER_RUNTIME": "python"
  }
}
"""),
    ("config/initializers/devise.rb", "ruby", """
Devise.setup do |config|
{S}  config.secret_key = '{hex64}'
end
"""),
    ("Dockerfile", "dockerfile", """
FROM python:3.12-slim
{S}ENV DB_PASSWORD={pw}
{S}ARG NPM_TOKEN={alnum32}
RUN pip install -r requirements.txt
"""),
    ("android/keystore.properties", "properties", """
storeFile=release.jks
{S}storePassword={pw}
keyAlias=release
{S}keyPassword={pw}
"""),
    ("home/.kube/config", "kubeconfig", """
users:
- name: ci
  user:
{S}    token: {b64_40}
- name: admin
  user:
{S}    client-key-data: {b64_40}
"""),
    ("home/.composer/auth.json", "composer", """
{
  "http-basic": {
    "repo.acme-corp.net": {
      "username": "ci",
{S}      "password": "{pw}"
    }
  }
}
"""),
    ("home/.gem/credentials", "gem", """
---
{S}:rubygems_api_key: {hex32}
"""),
    ("home/.config/hub", "hub", """
github.com:
- user: acme-bot
{S}  oauth_token: {hex32}{hex32}
"""),
    ("config/master.key", "rails-master-key", """
{S}{hex32}
"""),
    ("config/credentials/production.key", "rails-master-key", """
{S}{hex32}
"""),
]


def _ppk(v: Values) -> CorpusFile:
    public = [v.chars(B64, 64), v.chars(B64, 24)]
    private = [v.b64(48)[:64], v.b64(30)]
    v.drawn.append("".join(private))
    lines = ["PuTTY-User-Key-File-3: ssh-ed25519", "Encryption: none", "Comment: deploy@acme", "Public-Lines: 2",
             *public, "Private-Lines: 2", *private, "Private-MAC: " + v.hex(64)]
    return CorpusFile("keys/deploy.ppk", "putty", "\n".join(lines) + "\n", [1])  # a finding starts at the header


def _pgp(v: Values) -> CorpusFile:
    body = [v.chars(B64, 64) for _ in range(8)]
    v.drawn.append(body[0])
    lines = ["-----BEGIN PGP PRIVATE KEY BLOCK-----", "", *body, "=" + v.chars(B64, 4),
             "-----END PGP PRIVATE KEY BLOCK-----"]
    return CorpusFile("keys/release.asc", "pgp", "\n".join(lines) + "\n", [1])


def credential_files(v: Values) -> list[CorpusFile]:
    return [_file(v, path, fmt, template) for path, fmt, template in CREDENTIAL_FILES] + [_ppk(v), _pgp(v)]

# Decoys: {uuid}, {hex40}, {sri}, {img} are filled with random non-secrets.
DECOY_FILES = [
    (".env.example", "placeholder", """
DB_HOST=localhost
DB_PASSWORD=
API_KEY=your_api_key_here
SECRET_KEY=changeme
STRIPE_TOKEN=<your-token>
JWT_SECRET=xxxxxxxxxxxxxxxx
"""),
    ("config/app.ini.sample", "placeholder", """
[database]
password = <password>
token = ********
api_key = REPLACE_ME
"""),
    ("settings/base.py", "reference", """
import os
SECRET_KEY = os.environ["DJANGO_SECRET_KEY"]
DB_PASSWORD = os.getenv("DB_PASSWORD")
API_TOKEN = os.environ.get("API_TOKEN", "")
password = request.POST["password"]
token = jwt.encode(payload, key, algorithm="HS256")
api_key = get_api_key()
self.secret = secret
"""),
    ("web/src/env.js", "reference", """
export const apiKey = process.env.API_KEY;
const password = process.env.DB_PASSWORD || '';
const token = import.meta.env.VITE_TOKEN;
"""),
    ("config/application-prod.yml", "reference", """
spring:
  datasource:
    password: ${DB_PASSWORD}
    username: ${DB_USER:shop}
  mail:
    password: ${MAIL_PASSWORD:}
"""),
    ("chart/templates/deployment.yaml", "reference", """
env:
  - name: DB_PASSWORD
    valueFrom:
      secretKeyRef:
        name: db
        key: password
  - name: API_TOKEN
    value: "{{ .Values.apiToken }}"
"""),
    (".github/workflows/deploy.yml", "reference", """
jobs:
  deploy:
    steps:
      - run: ./deploy.sh
        env:
          TOKEN: ${{ secrets.DEPLOY_TOKEN }}
          PASSWORD: ${{ secrets.DB_PASSWORD }}
"""),
    ("infra/variables.tf", "reference", """
variable "db_password" {
  type      = string
  sensitive = true
}
resource "aws_db_instance" "shop" {
  password = var.db_password
  master_password = random_password.db.result
}
"""),
    ("etc/app.conf", "reference", """
[db]
password = %(DB_PASSWORD)s
secret = {{ vault_secret }}
token = $API_TOKEN
auth = ${AUTH_HEADER}
"""),
    ("docker-compose.override.yml", "reference", """
services:
  db:
    environment:
      POSTGRES_PASSWORD: ${POSTGRES_PASSWORD}
      - MYSQL_ROOT_PASSWORD=$MYSQL_ROOT_PASSWORD
"""),
    ("group_vars/vault.yml", "encrypted", """
db_password: !vault |
  $ANSIBLE_VAULT;1.1;AES256
  {hex64}
api_token: ENC[AES256_GCM,data:{b64_32},type:str]
"""),
    ("docs/install.md", "docs-placeholder", """
# Install
Set the password in `config/app.ini`, then restart. The token expires after 5 minutes.

    export API_KEY=<your-api-key>
    mysql -u root -p
    DATABASE_URL=postgres://user:<password>@localhost:5432/app
    password: ********
"""),
    ("README.md", "docs-placeholder", """
Configure `SECRET_KEY` and `DB_PASSWORD` before the first start.
Pass `--password` on the command line or set `password:` in the config file.
    curl -u USERNAME:TOKEN https://api.example.com/
"""),
    ("docs/broker.rst", "docs-pair", """
Broker URL examples::

    broker_url = 'amqp://guest:guest@localhost:5672//'
    result_backend = 'db+postgresql://scott:tiger@localhost/mydatabase'
    url = 'redis://:password@localhost:6379/0'
"""),
    ("examples/settings.py", "docs-pair", """
BROKER_URL = "amqp://guest:guest@localhost//"
DATABASE_URL = "mysql://root:root@127.0.0.1/app"
ADMIN_URL = "http://admin:admin@example.com/"
"""),
    ("home/.ssh/id_ed25519.pub", "public-key", """
ssh-ed25519 AAAAC3NzaC1lZDI1NTE5AAAA{alnum32}{alnum16} deploy@acme
"""),
    ("home/.ssh/authorized_keys", "public-key", """
ssh-rsa AAAAB3NzaC1yc2EAAAADAQABAAABAQ{alnum32}{alnum32}{alnum32}{alnum32} ci@acme
ecdsa-sha2-nistp256 AAAAE2VjZHNhLXNoYTItbmlzdHAyNTYAAAAIbmlzdHAyNTY{alnum32}{alnum32} ops@acme
"""),
    ("certs/server.crt", "certificate", """
-----BEGIN CERTIFICATE-----
MIIC{alnum32}{alnum24}
{alnum32}{alnum32}
-----END CERTIFICATE-----
"""),
    ("keys/signing.pub.pem", "public-key", """
-----BEGIN PUBLIC KEY-----
MIIBIjANBgkqhkiG9w0BAQEFAAOCAQ8AMIIBCgKCAQEA{alnum16}
{alnum32}{alnum32}
-----END PUBLIC KEY-----
"""),
    ("config/tenants.yml", "uuid", """
tenant_id: {uuid}
client_id: {uuid}
request_token: {uuid}
subscription_key_id: {uuid}
"""),
    ("package-lock.json", "lockfile", """
{
  "packages": {
    "node_modules/left-pad": {
      "version": "1.3.0",
      "integrity": "{sri}"
    }
  }
}
"""),
    ("yarn.lock", "lockfile", """
left-pad@^1.3.0:
  version "1.3.0"
  resolved "https://registry.yarnpkg.com/left-pad/-/left-pad-1.3.0.tgz#{hex40}"
  integrity {sri}
"""),
    ("poetry.lock", "lockfile", """
[[package]]
name = "requests"
files = [
    {file = "requests-2.32.3.tar.gz", hash = "sha256:{hex64}"},
]
[metadata]
content-hash = "{hex64}"
"""),
    ("public/index.html", "sri", """
<script src="https://cdn.example.net/lib.min.js" integrity="{sri}" crossorigin="anonymous"></script>
<link rel="stylesheet" href="/app.css" integrity="{sri}">
<input type="password" name="password" placeholder="Password" autocomplete="current-password">
"""),
    ("public/app.css", "image", """
.logo { background: url(data:image/png;base64,{img}); }
.token-badge { color: #333; }
"""),
    ("public/email.html", "image", """
<img alt="key" src="data:image/gif;base64,{img}">
"""),
    ("public/vendor.min.js", "minified", """
{minified}
"""),
    ("tests/fixtures/users.json", "fixture", """
[{"model": "auth.user", "fields": {"username": "alice", "password": "test-password-1"}},
 {"model": "auth.user", "fields": {"username": "bob", "password": "fake_password"}}]
"""),
    ("tests/test_login.py", "fixture", """
def test_login(client):
    resp = client.post("/login", {"username": "alice", "password": "wrong-password"})
    token = "dummy-token"
    assert resp.status_code == 401
    api_key = "mock_api_key"
"""),
    ("src/auth/hashers.py", "code", """
def set_password(self, raw_password):
    self.password = make_password(raw_password)
    if not password:
        raise ValueError("password required")
    token_type = "bearer"
    password_min_length = 12
    secret_name = "db-credentials"
"""),
    ("config/limits.yml", "config-words", """
password_required: true
token_ttl: 3600
auth: none
auth_method: md5
password_hashers: bcrypt
secret_ref: db-secret
token_url: https://auth.acme-corp.net/oauth/token
"""),
    ("go.sum", "lockfile", """
github.com/pkg/errors v0.9.1 h1:{b64_32}
github.com/pkg/errors v0.9.1/go.mod h1:{b64_32}
"""),
    ("CHANGELOG.md", "docs-placeholder", """
## 2.1.0
- The `password` option is now required when `auth` is set.
- Fixed token refresh (#1234, commit {hex40}).
"""),
    ("app/Kconfig.txt", "code", """
KEY_ESC = 27
KEY_ENTER = 13
primary_key = "id"
cache_key = "orders:{uuid}"
"""),
]


def _minified(v: Values) -> str:
    parts = [f"var a{i}=function(e,t){{return e.apiKey||t.token||'{v.chars(ALNUM, 12)}'}};" for i in range(80)]
    return "".join(parts)


def _decoy_fill(v: Values, template: str) -> str:
    def one(m):
        name = m.group(1)
        return {
            "uuid": lambda: "-".join(v.chars(HEX, n) for n in (8, 4, 4, 4, 12)),
            "hex40": lambda: v.chars(HEX, 40), "hex64": lambda: v.chars(HEX, 64),
            "sri": lambda: "sha512-" + base64.b64encode(v.rng.randbytes(64)).decode(),
            "img": lambda: base64.b64encode(b"\x89PNG" + v.rng.randbytes(300)).decode(),
            "minified": lambda: _minified(v), "alnum16": lambda: v.chars(ALNUM, 16),
            "alnum24": lambda: v.chars(ALNUM, 24), "alnum32": lambda: v.chars(ALNUM, 32),
            "b64_32": lambda: base64.b64encode(v.rng.randbytes(32)).decode(),
        }[name]()
    return re.sub(r"\{(uuid|hex40|hex64|sri|img|minified|alnum16|alnum24|alnum32|b64_32)\}", one, template)


def decoy_files(v: Values) -> list[CorpusFile]:
    return [CorpusFile(path, fmt, _decoy_fill(v, template.strip("\n")) + "\n") for path, fmt, template in DECOY_FILES]


def corpus_build(*, seed: int = 10) -> tuple[list[CorpusFile], Values]:
    """The corpus (credential files, then decoys) and the values drawn for it."""
    v = Values(seed)
    return credential_files(v) + decoy_files(v), v
