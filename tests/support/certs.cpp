// Test support: the test PKI (see certs.hpp), built with OpenSSL 3's EVP and X509 APIs.
#include "support/certs.hpp"

#include <fcntl.h>
#include <openssl/err.h>
#include <openssl/evp.h>
#include <openssl/pem.h>
#include <openssl/x509.h>
#include <openssl/x509v3.h>
#include <unistd.h>

#include <cerrno>
#include <cstdio>
#include <cstdlib>
#include <filesystem>
#include <memory>
#include <stdexcept>
#include <string>
#include <system_error>
#include <utility>
#include <vector>

namespace asyncio::testing {

namespace {

struct PkeyFree {
    void operator()(EVP_PKEY* p) const noexcept { EVP_PKEY_free(p); }
};
struct X509Free {
    void operator()(X509* x) const noexcept { X509_free(x); }
};
struct FileClose {
    void operator()(std::FILE* f) const noexcept { std::fclose(f); }
};
using Pkey = std::unique_ptr<EVP_PKEY, PkeyFree>;
using Cert = std::unique_ptr<X509, X509Free>;
using File = std::unique_ptr<std::FILE, FileClose>;

constexpr long kDay = 24L * 60 * 60;

[[noreturn]] void fail(const std::string& what) {
    std::string text = "TestCerts: " + what;
    unsigned long code = ERR_get_error();
    if (code != 0) {
        char buf[256];
        ERR_error_string_n(code, buf, sizeof buf);
        text += ": ";
        text += buf;
    }
    ERR_clear_error();
    throw std::runtime_error(text);
}

void check(bool ok, const std::string& what) {
    if (!ok) fail(what);
}

Pkey new_key() {
    Pkey key(EVP_EC_gen("P-256"));
    check(key != nullptr, "EVP_EC_gen(P-256)");
    return key;
}

struct CertSpec {
    std::string common_name;
    long not_before = -kDay;  // seconds from now
    long not_after = 30 * kDay;
    std::vector<std::pair<int, std::string>> extensions;  // NID, OpenSSL config value
};

// A certificate for `key`, issued by `issuer` (signed with `issuer_key`), or self-signed when
// `issuer` is null.
Cert make_cert(const CertSpec& spec, EVP_PKEY* key, X509* issuer, EVP_PKEY* issuer_key) {
    static long serial = 1;
    Cert cert(X509_new());
    check(cert != nullptr, "X509_new");
    X509* x = cert.get();
    check(X509_set_version(x, X509_VERSION_3) == 1, "X509_set_version");
    check(ASN1_INTEGER_set(X509_get_serialNumber(x), serial++) == 1, "ASN1_INTEGER_set");
    check(X509_gmtime_adj(X509_getm_notBefore(x), spec.not_before) != nullptr, "X509_gmtime_adj notBefore");
    check(X509_gmtime_adj(X509_getm_notAfter(x), spec.not_after) != nullptr, "X509_gmtime_adj notAfter");
    check(X509_set_pubkey(x, key) == 1, "X509_set_pubkey");

    X509_NAME* name = X509_get_subject_name(x);
    check(X509_NAME_add_entry_by_txt(name, "O", MBSTRING_ASC,
                                     reinterpret_cast<const unsigned char*>("asyncio tests"), -1, -1, 0) == 1,
          "X509_NAME_add_entry_by_txt O");
    check(X509_NAME_add_entry_by_txt(name, "CN", MBSTRING_ASC,
                                     reinterpret_cast<const unsigned char*>(spec.common_name.c_str()), -1, -1,
                                     0) == 1,
          "X509_NAME_add_entry_by_txt CN");
    check(X509_set_issuer_name(x, issuer != nullptr ? X509_get_subject_name(issuer) : name) == 1,
          "X509_set_issuer_name");

    X509V3_CTX ctx;
    X509V3_set_ctx_nodb(&ctx);
    X509V3_set_ctx(&ctx, issuer != nullptr ? issuer : x, x, nullptr, nullptr, 0);
    for (const auto& [nid, value] : spec.extensions) {
        X509_EXTENSION* ext = X509V3_EXT_conf_nid(nullptr, &ctx, nid, value.c_str());
        check(ext != nullptr, std::string("X509V3_EXT_conf_nid ") + OBJ_nid2sn(nid) + "=" + value);
        int added = X509_add_ext(x, ext, -1);
        X509_EXTENSION_free(ext);
        check(added == 1, "X509_add_ext");
    }
    check(X509_sign(x, issuer_key != nullptr ? issuer_key : key, EVP_sha256()) > 0, "X509_sign");
    return cert;
}

CertSpec ca_spec(std::string common_name) {
    CertSpec spec;
    spec.common_name = std::move(common_name);
    spec.not_after = 365 * kDay;
    spec.extensions = {
        {NID_basic_constraints, "critical,CA:TRUE"},
        {NID_key_usage, "critical,keyCertSign,cRLSign"},
        {NID_subject_key_identifier, "hash"},
    };
    return spec;
}

const char* const kServerNames = "DNS:localhost,IP:127.0.0.1,IP:::1";

// A leaf issued by a CA: its key identifiers, usage and `extra` extensions.
CertSpec leaf_spec(std::string common_name, const char* extended_usage, const char* subject_alt_names) {
    CertSpec spec;
    spec.common_name = std::move(common_name);
    spec.extensions = {
        {NID_basic_constraints, "critical,CA:FALSE"},
        {NID_key_usage, "critical,digitalSignature"},
        {NID_ext_key_usage, extended_usage},
        {NID_subject_key_identifier, "hash"},
        {NID_authority_key_identifier, "keyid:always"},
    };
    if (subject_alt_names != nullptr) spec.extensions.emplace_back(NID_subject_alt_name, subject_alt_names);
    return spec;
}

File open_for_writing(const std::string& path, mode_t mode) {
    int fd = ::open(path.c_str(), O_WRONLY | O_CREAT | O_EXCL | O_CLOEXEC, mode);
    if (fd < 0) throw std::system_error(errno, std::generic_category(), "TestCerts: open " + path);
    std::FILE* f = ::fdopen(fd, "w");
    if (f == nullptr) {
        int err = errno;
        ::close(fd);
        throw std::system_error(err, std::generic_category(), "TestCerts: fdopen " + path);
    }
    return File(f);
}

void write_cert(const std::string& path, X509* cert) {
    File f = open_for_writing(path, 0644);
    check(PEM_write_X509(f.get(), cert) == 1, "PEM_write_X509 " + path);
    check(std::fflush(f.get()) == 0, "fflush " + path);
}

void write_key(const std::string& path, EVP_PKEY* key) {
    File f = open_for_writing(path, 0600);
    check(PEM_write_PrivateKey(f.get(), key, nullptr, nullptr, 0, nullptr, nullptr) == 1,
          "PEM_write_PrivateKey " + path);
    check(std::fflush(f.get()) == 0, "fflush " + path);
}

}  // namespace

TestCerts::TestCerts() {
    char templ[] = "/tmp/asyncio-tls-test-XXXXXX";
    if (::mkdtemp(templ) == nullptr) throw std::system_error(errno, std::generic_category(), "TestCerts: mkdtemp");
    dir = templ;
    try {
        auto path = [this](const char* file) { return dir + "/" + file; };
        ca_pem = path("ca.pem");
        server_pem = path("server.pem");
        server_key = path("server.key");
        expired_pem = path("expired.pem");
        expired_key = path("expired.key");
        selfsigned_pem = path("selfsigned.pem");
        selfsigned_key = path("selfsigned.key");
        client_pem = path("client.pem");
        client_key = path("client.key");
        other_ca_pem = path("other_ca.pem");

        Pkey ca_key = new_key();
        Cert ca = make_cert(ca_spec("asyncio test CA"), ca_key.get(), nullptr, nullptr);
        write_cert(ca_pem, ca.get());

        Pkey srv_key = new_key();
        Cert srv = make_cert(leaf_spec("localhost", "serverAuth", kServerNames), srv_key.get(), ca.get(), ca_key.get());
        write_cert(server_pem, srv.get());
        write_key(server_key, srv_key.get());

        Pkey exp_key = new_key();
        CertSpec expired = leaf_spec("localhost", "serverAuth", kServerNames);
        expired.not_before = -30 * kDay;
        expired.not_after = -kDay;
        Cert exp = make_cert(expired, exp_key.get(), ca.get(), ca_key.get());
        write_cert(expired_pem, exp.get());
        write_key(expired_key, exp_key.get());

        // A self-signed leaf as people make them for quick tests: no keyUsage (so OpenSSL sees
        // it as self-signed, not as issued by an unknown CA), the right names.
        Pkey ss_key = new_key();
        CertSpec selfsigned;
        selfsigned.common_name = "localhost";
        selfsigned.extensions = {
            {NID_basic_constraints, "critical,CA:FALSE"},
            {NID_ext_key_usage, "serverAuth"},
            {NID_subject_key_identifier, "hash"},
            {NID_subject_alt_name, kServerNames},
        };
        Cert ss = make_cert(selfsigned, ss_key.get(), nullptr, nullptr);
        write_cert(selfsigned_pem, ss.get());
        write_key(selfsigned_key, ss_key.get());

        Pkey cli_key = new_key();
        Cert cli = make_cert(leaf_spec("asyncio test client", "clientAuth", nullptr), cli_key.get(), ca.get(),
                             ca_key.get());
        write_cert(client_pem, cli.get());
        write_key(client_key, cli_key.get());

        Pkey other_key = new_key();
        Cert other = make_cert(ca_spec("asyncio other CA"), other_key.get(), nullptr, nullptr);
        write_cert(other_ca_pem, other.get());
    } catch (...) {
        std::error_code ec;
        std::filesystem::remove_all(dir, ec);
        throw;
    }
}

TestCerts::~TestCerts() {
    std::error_code ec;
    std::filesystem::remove_all(dir, ec);  // best effort
}

const TestCerts& test_certs() {
    static const TestCerts certs;
    return certs;
}

ssl::SSLContext test_server_context() {
    ssl::SSLContext ctx(ssl::PROTOCOL_TLS_SERVER);
    ctx.load_cert_chain(test_certs().server_pem, test_certs().server_key);
    return ctx;
}

ssl::SSLContext test_client_context() {
    ssl::SSLContext ctx(ssl::PROTOCOL_TLS_CLIENT);
    ctx.load_verify_locations(test_certs().ca_pem);
    return ctx;
}

}  // namespace asyncio::testing
