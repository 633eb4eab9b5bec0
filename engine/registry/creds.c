/* SPDX-License-Identifier: Apache-2.0 */
/* Registry credentials in Docker's config.json: finding the file, reading
 * a registry's `auths` entry, and `login`/`logout` writing it back (temp
 * file and rename, the other keys kept, 0600 in a 0700 directory). Not
 * here: using them (auth.c). */
#include <ctype.h>
#include <fcntl.h>
#include <jansson.h>
#include <openssl/evp.h>
#include <pwd.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

#include "engine/registry/auth.h"
#include "engine/registry/registry.h"
#include "util/cleanup.h"
#include "util/fs.h"
#include "util/xalloc.h"

char *registry_base64(const void *buf, size_t len)
{
    char *out = xmalloc(4 * ((len + 2) / 3) + 1);
    EVP_EncodeBlock((unsigned char *)out, buf, (int)len);
    return out;
}

int registry_unbase64(const char *text, char **out, size_t *outlen)
{
    size_t len = strlen(text);
    if (len % 4 != 0 || len > REGISTRY_DOCKER_CONFIG_MAX)
        return -EINVAL;
    _cleanup_free_ char *buf = xmalloc(len / 4 * 3 + 1);
    int n = EVP_DecodeBlock((unsigned char *)buf, (const unsigned char *)text, (int)len);
    if (n < 0)
        return -EINVAL;
    /* EVP_DecodeBlock counts the padding's zero bytes in. */
    for (size_t i = len; i > 0 && text[i - 1] == '=' && n > 0; i--)
        n--;
    buf[n] = '\0';
    *outlen = (size_t)n;
    *out = TAKE_PTR(buf);
    return 0;
}

void registry_creds_clear(struct registry_creds *c)
{
    free(c->user);
    if (c->password)
        explicit_bzero(c->password, strlen(c->password));
    free(c->password);
    free(c->identity_token);
    *c = (struct registry_creds){0};
}

char *registry_auth_key(const char *domain)
{
    return xstrdup(strcmp(domain, "docker.io") == 0 ? REGISTRY_DOCKER_HUB_AUTHKEY : domain);
}

static bool is_hub_host(const char *host, size_t len)
{
    static const char *const hub[] = {"docker.io", "index.docker.io", REGISTRY_DOCKER_HUB};
    for (size_t i = 0; i < ARRAY_SIZE(hub); i++)
        if (strlen(hub[i]) == len && strncasecmp(hub[i], host, len) == 0)
            return true;
    return false;
}

/* Whether a config.json key ("host:port", "https://host/v1/") names
 * domain. */
static bool key_names(const char *key, const char *domain)
{
    if (strncasecmp(key, "https://", 8) == 0)
        key += 8;
    else if (strncasecmp(key, "http://", 7) == 0)
        key += 7;
    size_t len = strcspn(key, "/");
    if (strcmp(domain, "docker.io") == 0)
        return is_hub_host(key, len);
    return strlen(domain) == len && strncasecmp(key, domain, len) == 0;
}

/* `auths` entry of domain: the exact key first, then any naming it. */
static json_t *auths_entry(json_t *auths, const char *domain, const char **key_out)
{
    _cleanup_free_ char *exact = registry_auth_key(domain);
    const char *key;
    json_t *v;
    json_object_foreach(auths, key, v)
    {
        if (strcmp(key, exact) == 0) {
            *key_out = key;
            return v;
        }
    }
    json_object_foreach(auths, key, v)
    {
        if (key_names(key, domain)) {
            *key_out = key;
            return v;
        }
    }
    return NULL;
}

static bool names_helpers(json_t *root, const char *domain)
{
    if (json_string_length(json_object_get(root, "credsStore")) > 0)
        return true;
    const char *key;
    json_t *v;
    json_t *helpers = json_object_get(root, "credHelpers");
    json_object_foreach(helpers, key, v)
    {
        if (key_names(key, domain))
            return true;
    }
    return false;
}

static int entry_creds(json_t *ent, const char *path, const char *key, struct registry_creds *out,
                       struct berr *e)
{
    if (!json_is_object(ent))
        return berr_set(e, -EINVAL, "%s: auths \"%s\" is not an object", path, key);
    const char *auth = json_string_value(json_object_get(ent, "auth"));
    const char *user = json_string_value(json_object_get(ent, "username"));
    const char *pass = json_string_value(json_object_get(ent, "password"));
    const char *idt = json_string_value(json_object_get(ent, "identitytoken"));
    if (auth && *auth) {
        _cleanup_free_ char *plain = NULL;
        size_t len = 0;
        char *colon;
        if (registry_unbase64(auth, &plain, &len) < 0 || strlen(plain) != len ||
            !(colon = strchr(plain, ':')))
            return berr_set(e, -EINVAL,
                            "%s: auths \"%s\": \"auth\" is not base64 of \"user:password\"", path,
                            key);
        out->user = xstrndup(plain, (size_t)(colon - plain));
        out->password = xstrdup(colon + 1);
        explicit_bzero(plain, len);
    } else if (user && pass && *user) {
        out->user = xstrdup(user);
        out->password = xstrdup(pass);
    }
    if (idt && *idt)
        out->identity_token = xstrdup(idt);
    return out->user || out->identity_token ? 1 : 0;
}

/* A config.json document as JSON: an object whose `auths`, if any, is
 * an object too. */
static int config_doc(const char *doc, size_t len, const char *path, json_t **root_out,
                      struct berr *e)
{
    json_error_t je;
    json_auto_t *root = json_loadb(doc, len, JSON_REJECT_DUPLICATES, &je);
    if (!root)
        return berr_set(e, -EINVAL, "%s:%d: not valid JSON: %s", path, je.line, je.text);
    if (!json_is_object(root))
        return berr_set(e, -EINVAL, "%s: not a JSON object", path);
    json_t *auths = json_object_get(root, "auths");
    if (auths && !json_is_object(auths))
        return berr_set(e, -EINVAL, "%s: \"auths\" is not an object", path);
    *root_out = TAKE_PTR(root);
    return 0;
}

/* The file at path: 1 with *doc filled, 0 when there is none. */
static int config_read(const char *path, char **doc, size_t *len, struct berr *e)
{
    struct berr err = BERR_INIT;
    int r = fs_read_file(AT_FDCWD, path, REGISTRY_DOCKER_CONFIG_MAX, doc, len, &err);
    if (r == -ENOENT) {
        berr_clear(&err);
        return 0;
    }
    if (r < 0) {
        berr_move(e, &err);
        return r;
    }
    return 1;
}

int registry_creds_parse(const char *doc, size_t len, const char *path, const char *domain,
                         struct registry_creds *out, struct berr *e)
{
    *out = (struct registry_creds){0};
    json_auto_t *root = NULL;
    int r = config_doc(doc, len, path, &root, e);
    if (r < 0)
        return r;
    out->helpers = names_helpers(root, domain);
    const char *key = NULL;
    json_t *ent = auths_entry(json_object_get(root, "auths"), domain, &key);
    r = ent ? entry_creds(ent, path, key, out, e) : 0;
    if (r <= 0) {
        bool helpers = out->helpers;
        registry_creds_clear(out);
        out->helpers = helpers;
    }
    return r;
}

int registry_creds_load(const char *path, const char *domain, struct registry_creds *out,
                        struct berr *e)
{
    *out = (struct registry_creds){0};
    _cleanup_free_ char *doc = NULL;
    size_t len = 0;
    int r = config_read(path, &doc, &len, e);
    if (r <= 0)
        return r;
    return registry_creds_parse(doc, len, path, domain, out, e);
}

char *registry_docker_config_path(void)
{
    const char *dir = getenv("DOCKER_CONFIG");
    if (dir && *dir)
        return fs_path_join(dir, "config.json");
    const char *home = getenv("HOME");
    if (!home || !*home) {
        struct passwd *pw = getpwuid(getuid());
        home = pw ? pw->pw_dir : NULL;
    }
    return home && *home ? xasprintf("%s/.docker/config.json", home) : NULL;
}

char *registry_server_domain(const char *server, struct berr *e)
{
    if (!server || !*server)
        return xstrdup("docker.io");
    const char *host = server;
    if (strncasecmp(host, "https://", 8) == 0)
        host += 8;
    else if (strncasecmp(host, "http://", 7) == 0)
        host += 7;
    size_t len = strcspn(host, "/");
    if (len == 0 || len > 255 ||
        strspn(host, "abcdefghijklmnopqrstuvwxyzABCDEFGHIJKLMNOPQRSTUVWXYZ"
                     "0123456789.-:[]_") < len)
        return berr_set(e, -EINVAL, "\"%s\" is not a registry (HOST[:PORT])", server), NULL;
    if (is_hub_host(host, len))
        return xstrdup("docker.io");
    char *d = xstrndup(host, len);
    for (char *p = d; *p; p++)
        *p = (char)tolower((unsigned char)*p);
    return d;
}

/* The document at path as a JSON object (a new one when there is no file),
 * and its `auths` object (created when missing). */
static int config_open(const char *path, json_t **root_out, json_t **auths_out, struct berr *e)
{
    _cleanup_free_ char *doc = NULL;
    size_t len = 0;
    json_auto_t *root = NULL;
    int r = config_read(path, &doc, &len, e);
    if (r < 0 || (r > 0 && (r = config_doc(doc, len, path, &root, e)) < 0))
        return r;
    if (!root)
        root = json_object();
    json_t *auths = json_object_get(root, "auths");
    if (!auths) {
        auths = json_object();
        json_object_set_new(root, "auths", auths);
    }
    *auths_out = auths;
    *root_out = TAKE_PTR(root);
    return 0;
}

static int config_write(const char *path, json_t *root, struct berr *e)
{
    _cleanup_free_ char *dir = xstrdup(path);
    char *slash = strrchr(dir, '/');
    const char *name = path;
    if (slash) {
        *slash = '\0';
        name = slash + 1;
        if (*dir && fs_mkdir_p(dir, 0700, e) < 0)
            return berr_wrap(e, "creating the directory of %s", path);
    }
    _cleanup_close_ int dfd =
        open(slash ? (*dir ? dir : "/") : ".", O_RDONLY | O_DIRECTORY | O_CLOEXEC);
    if (dfd < 0)
        return berr_errno(e, errno, "opening the directory of %s", path);
    _cleanup_free_ char *text = json_dumps(root, JSON_INDENT(1) | JSON_PRESERVE_ORDER);
    if (!text)
        return berr_set(e, -ENOMEM, "%s: encoding JSON", path);
    size_t len = strlen(text);
    text = xrealloc(text, len + 2);
    memcpy(text + len, "\n", 2);
    int r = fs_write_atomic(dfd, name, text, len + 1, 0600, e);
    explicit_bzero(text, len);
    return r < 0 ? berr_wrap(e, "writing %s", path) : 0;
}

int registry_creds_save(const char *path, const char *domain, const char *user,
                        const char *password, bool *helpers, struct berr *e)
{
    json_auto_t *root = NULL;
    json_t *auths = NULL;
    int r = config_open(path, &root, &auths, e);
    if (r < 0)
        return r;
    *helpers = names_helpers(root, domain);
    _cleanup_free_ char *pair = xasprintf("%s:%s", user, password);
    _cleanup_free_ char *b64 = registry_base64(pair, strlen(pair));
    explicit_bzero(pair, strlen(pair));
    _cleanup_free_ char *key = registry_auth_key(domain);
    json_object_set_new(auths, key, json_pack("{s:s}", "auth", b64));
    explicit_bzero(b64, strlen(b64));
    return config_write(path, root, e);
}

int registry_creds_erase(const char *path, const char *domain, struct berr *e)
{
    if (!fs_exists(path))
        return 0;
    json_auto_t *root = NULL;
    json_t *auths = NULL;
    int r = config_open(path, &root, &auths, e);
    if (r < 0)
        return r;
    int removed = 0;
    const char *key;
    json_t *v;
    void *tmp;
    json_object_foreach_safe(auths, tmp, key, v)
    {
        if (key_names(key, domain)) {
            json_object_del(auths, key);
            removed++;
        }
    }
    if (!removed)
        return 0;
    r = config_write(path, root, e);
    return r < 0 ? r : 1;
}
