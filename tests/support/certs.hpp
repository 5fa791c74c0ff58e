// Test support: a small PKI generated at test time with the OpenSSL 3 C API.
//
// Everything lives in a fresh temporary directory (mkdtemp under /tmp), removed by the
// destructor. Keys are EC P-256; certificates are X.509 v3, signed with SHA-256.
//
//   ca            self-signed, basicConstraints CA:TRUE, keyUsage keyCertSign
//   server        signed by ca; subjectAltName DNS:localhost, IP:127.0.0.1, IP:::1
//   expired       as server, but notAfter is in the past
//   selfsigned    a server certificate (same names) signing itself, not from ca
//   client        signed by ca; extendedKeyUsage clientAuth
//   other_ca      a second, unrelated CA (its key is not kept)
#pragma once

#include <string>

#include "asyncio/tls.hpp"

namespace asyncio::testing {

struct TestCerts {
    std::string dir;  ///< the temporary directory holding every file below

    std::string ca_pem;
    std::string server_pem;
    std::string server_key;
    std::string expired_pem;
    std::string expired_key;
    std::string selfsigned_pem;
    std::string selfsigned_key;
    std::string client_pem;
    std::string client_key;
    std::string other_ca_pem;

    /// Generates every key and certificate; throws std::runtime_error (with OpenSSL's error
    /// text) if anything fails, leaving no directory behind.
    TestCerts();
    /// Removes the directory and its files.
    ~TestCerts();
    TestCerts(const TestCerts&) = delete;
    TestCerts& operator=(const TestCerts&) = delete;
};

/// One TestCerts per test binary, created on first use and removed at exit.
const TestCerts& test_certs();

/// A server context presenting test_certs()'s `server` certificate (valid for localhost,
/// 127.0.0.1 and ::1).
ssl::SSLContext test_server_context();
/// A client context that verifies peers against test_certs()'s `ca`.
ssl::SSLContext test_client_context();

}  // namespace asyncio::testing
