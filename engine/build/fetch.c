/* SPDX-License-Identifier: Apache-2.0 */
/* ADD's URLs: what counts as one (http and https; git repositories are
 * refused by the caller), the name a download is saved under, and the
 * download itself, with libcurl, into the op's scratch directory: kept
 * there under the URL's digest, so the checksum pass and the copy read
 * the same bytes, verified against --checksum (sha256, sha384, sha512). */
#include <curl/curl.h>
#include <openssl/evp.h>
#include <errno.h>
#include <fcntl.h>
#include <stdio.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

#include "engine/build/copy_int.h"
#include "engine/image/digest.h"
#include "util/cleanup.h"
#include "util/fs.h"
#include "util/xalloc.h"

#define FETCH_MAX_BYTES     (64LL << 30) /* one download */
#define FETCH_MAX_REDIRECTS 10

bool copy_is_url(const char *s)
{
    return strncmp(s, "http://", 7) == 0 || strncmp(s, "https://", 8) == 0;
}

/* As BuildKit's gitutil: git:// and git@ remotes, github.com/ shorthand,
 * and http(s) URLs of a .git repository (a fragment names a ref). */
bool copy_is_git_url(const char *s)
{
    if (strncmp(s, "git://", 6) == 0 || strncmp(s, "git@", 4) == 0 ||
        strncmp(s, "github.com/", 11) == 0 || strncmp(s, "ssh://", 6) == 0)
        return true;
    if (!copy_is_url(s))
        return false;
    size_t n = strcspn(s, "?#");
    return (n >= 4 && strncmp(s + n - 4, ".git", 4) == 0) || strstr(s, ".git#") != NULL;
}

char *copy_url_name(const char *url)
{
    const char *p = strstr(url, "://");
    p = p ? p + 3 : url;
    p += strcspn(p, "/?#"); /* past the host */
    size_t n = strcspn(p, "?#");
    while (n > 0 && p[n - 1] == '/')
        n--;
    size_t start = n;
    while (start > 0 && p[start - 1] != '/')
        start--;
    if (start == n)
        return NULL;
    return xstrndup(p + start, n - start);
}

struct dl {
    int fd;
    long long bytes;
    int err; /* errno of a failed write */
};

static size_t on_data(char *buf, size_t size, size_t nmemb, void *ud)
{
    struct dl *d = ud;
    size_t n = size * nmemb;
    for (size_t off = 0; off < n;) {
        ssize_t w = write(d->fd, buf + off, n - off);
        if (w < 0 && errno == EINTR)
            continue;
        if (w < 0) {
            d->err = errno;
            return 0;
        }
        off += (size_t)w;
    }
    d->bytes += (long long)n;
    return n;
}

static int download(const char *url, struct dl *d, long long *mtime, struct berr *e)
{
    CURL *c = curl_easy_init();
    if (!c)
        return berr_set(e, -ENOMEM, "%s: cannot start a download", url);
    char errbuf[CURL_ERROR_SIZE] = "";
    curl_easy_setopt(c, CURLOPT_URL, url);
    curl_easy_setopt(c, CURLOPT_PROTOCOLS_STR, "http,https");
    curl_easy_setopt(c, CURLOPT_REDIR_PROTOCOLS_STR, "http,https");
    curl_easy_setopt(c, CURLOPT_FOLLOWLOCATION, 1L);
    curl_easy_setopt(c, CURLOPT_MAXREDIRS, (long)FETCH_MAX_REDIRECTS);
    curl_easy_setopt(c, CURLOPT_FAILONERROR, 1L);
    curl_easy_setopt(c, CURLOPT_FILETIME, 1L);
    curl_easy_setopt(c, CURLOPT_NOSIGNAL, 1L);
    curl_easy_setopt(c, CURLOPT_CONNECTTIMEOUT, 30L);
    /* a stalled server ends the download instead of hanging the build */
    curl_easy_setopt(c, CURLOPT_LOW_SPEED_LIMIT, 1L);
    curl_easy_setopt(c, CURLOPT_LOW_SPEED_TIME, 60L);
    curl_easy_setopt(c, CURLOPT_MAXFILESIZE_LARGE, (curl_off_t)FETCH_MAX_BYTES);
    curl_easy_setopt(c, CURLOPT_USERAGENT, "berth");
    curl_easy_setopt(c, CURLOPT_ERRORBUFFER, errbuf);
    curl_easy_setopt(c, CURLOPT_WRITEFUNCTION, on_data);
    curl_easy_setopt(c, CURLOPT_WRITEDATA, d);
    CURLcode rc = curl_easy_perform(c);
    long status = 0;
    curl_easy_getinfo(c, CURLINFO_RESPONSE_CODE, &status);
    curl_off_t ft = -1;
    curl_easy_getinfo(c, CURLINFO_FILETIME_T, &ft);
    curl_easy_cleanup(c);
    if (d->err)
        return berr_errno(e, d->err, "downloading %s: saving it", url);
    if (rc == CURLE_HTTP_RETURNED_ERROR)
        return berr_set(e, -EIO, "downloading %s: the server answered %ld", url, status);
    if (rc != CURLE_OK)
        return berr_set(e, -EIO, "downloading %s: %s", url,
                        errbuf[0] ? errbuf : curl_easy_strerror(rc));
    *mtime = ft > 0 ? (long long)ft : 0;
    return 0;
}

/* The digest of what fd holds from its offset on: 0 or -errno. */
static int hash_file(int fd, const EVP_MD *md, unsigned char *bin, unsigned int *len)
{
    EVP_MD_CTX *ctx = EVP_MD_CTX_new();
    _cleanup_free_ char *buf = xmalloc(1 << 16);
    int r = ctx && EVP_DigestInit_ex(ctx, md, NULL) ? 0 : -ENOMEM;
    for (;;) {
        ssize_t n = r == 0 ? read(fd, buf, 1 << 16) : 0;
        if (n < 0 && errno == EINTR)
            continue;
        if (n < 0)
            r = -errno;
        if (n <= 0)
            break;
        EVP_DigestUpdate(ctx, buf, (size_t)n);
    }
    if (r == 0 && !EVP_DigestFinal_ex(ctx, bin, len))
        r = -EIO;
    EVP_MD_CTX_free(ctx);
    return r;
}

/* Checks a download against --checksum=ALGO:HEX (sha256, sha384 or
 * sha512, as BuildKit), reading the kept file; fd ends at offset 0. */
static int verify_file(int fd, const char *url, const char *want, struct berr *e)
{
    const char *colon = strchr(want, ':');
    _cleanup_free_ char *algo = colon ? xstrndup(want, (size_t)(colon - want)) : NULL;
    const EVP_MD *md = NULL;
    if (algo &&
        (strcmp(algo, "sha256") == 0 || strcmp(algo, "sha384") == 0 || strcmp(algo, "sha512") == 0))
        md = EVP_get_digestbyname(algo);
    size_t hexlen = md ? 2 * (size_t)EVP_MD_get_size(md) : 0;
    if (!md || strlen(colon + 1) != hexlen || !digest_hex_is_valid(colon + 1, hexlen))
        return berr_set(e, -EINVAL,
                        "--checksum=%s: expected sha256:, sha384: or sha512: and the "
                        "digest in lowercase hex",
                        want);
    unsigned char bin[EVP_MAX_MD_SIZE];
    unsigned int len = 0;
    int r = hash_file(fd, md, bin, &len);
    lseek(fd, 0, SEEK_SET);
    if (r < 0)
        return berr_errno(e, -r, "%s: computing its %s", url, algo);
    char got[2 * EVP_MAX_MD_SIZE + 1] = "";
    for (unsigned int i = 0; i < len; i++)
        snprintf(got + 2 * i, 3, "%02x", bin[i]);
    if (strcmp(colon + 1, got) != 0)
        return berr_set(e, -EBADMSG, "%s: checksum mismatch: expected %s, got %s:%s", url, want,
                        algo, got);
    return 0;
}

int copy_fetch(const struct copy_op *op, const char *url, int *fdp, long long *mtime,
               struct berr *e)
{
    char key[DIGEST_STR_SIZE];
    sha256_digest(url, strlen(url), key);
    const char *dir = op->scratch_dir ? op->scratch_dir : "/tmp";
    _cleanup_free_ char *path = xasprintf("%s/url-%s", dir, digest_hex(key));
    /* Fetched already (by the checksum pass): its mtime is Last-Modified. */
    int fd = open(path, O_RDONLY | O_NOFOLLOW | O_CLOEXEC);
    struct stat st;
    if (fd >= 0 && fstat(fd, &st) == 0 && S_ISREG(st.st_mode)) {
        int r = op->checksum ? verify_file(fd, url, op->checksum, e) : 0;
        if (r < 0) {
            close(fd);
            return r;
        }
        *fdp = fd;
        *mtime = st.st_mtim.tv_sec;
        return 0;
    }
    if (fd >= 0)
        close(fd);
    _cleanup_free_ char *tmp = xasprintf("%s/.url-%s.XXXXXX", dir, digest_hex(key));
    _cleanup_close_ int wfd = mkostemp(tmp, O_CLOEXEC);
    if (wfd < 0)
        return berr_errno(e, errno, "downloading %s: creating a file in %s", url, dir);
    struct dl d = {.fd = wfd};
    int r = download(url, &d, mtime, e);
    if (r == 0 && op->checksum) {
        int rfd = open(tmp, O_RDONLY | O_NOFOLLOW | O_CLOEXEC);
        r = rfd < 0 ? berr_errno(e, errno, "downloading %s: reading it", url)
                    : verify_file(rfd, url, op->checksum, e);
        if (rfd >= 0)
            close(rfd);
    }
    if (r == 0) {
        struct timespec ts[2] = {{0, UTIME_OMIT}, {*mtime, 0}};
        if (!*mtime)
            ts[1].tv_nsec = UTIME_OMIT;
        futimens(wfd, ts);
        if (rename(tmp, path) < 0)
            r = berr_errno(e, errno, "downloading %s: keeping it in %s", url, dir);
    }
    if (r < 0) {
        unlink(tmp);
        return r;
    }
    fd = open(path, O_RDONLY | O_NOFOLLOW | O_CLOEXEC);
    if (fd < 0)
        return berr_errno(e, errno, "downloading %s: reopening it", url);
    *fdp = fd;
    return 0;
}
