//! Sprig's crypto helpers: `genPrivateKey`, `genCA`, `genSelfSignedCert`, `genSignedCert` (and their
//! `...WithKey` forms), `buildCustomCert`, `htpasswd`, `bcrypt`, `encryptAES`/`decryptAES` (`derivePassword` is in
//! `masterpassword`).
//!
//! Keys, serial numbers and salts come from the render's seeded PRNG and validity starts at the
//! instant `now` returns, so the PEM output is valid and well-formed (RSA 2048 like Sprig) yet the
//! same on every build of the same inputs.

use base64::Engine;
use kiln_gotemplate::{ArgType as A, CallContext, FuncError, FuncMap, Object, Signature, Value};
use rand::RngCore;
use rsa::pkcs1::EncodeRsaPrivateKey;
use rsa::pkcs8::{EncodePrivateKey, LineEnding};

use crate::render::RenderState;

/// Sprig's `certificate` struct (`.Cert`, `.Key`).
#[derive(Debug, Clone)]
pub struct Certificate {
    pub cert: String,
    pub key: String,
}

impl Object for Certificate {
    fn type_name(&self) -> &str {
        "sprig.certificate"
    }

    fn field(&self, name: &str) -> Option<Value> {
        match name {
            "Cert" => Some(Value::from(self.cert.as_str())),
            "Key" => Some(Value::from(self.key.as_str())),
            _ => None,
        }
    }

    fn format(&self) -> String {
        format!("{{{} {}}}", self.cert, self.key)
    }

    fn to_json(&self) -> Option<serde_json::Value> {
        Some(serde_json::json!({"Cert": self.cert, "Key": self.key}))
    }
}

fn seeded(ctx: &mut CallContext<'_>) -> rand_chacha_03::ChaCha20Rng {
    let mut seed = [0u8; 32];
    match ctx.state::<RenderState>() {
        Some(st) => st.rng.fill_bytes(&mut seed),
        None => seed = [7; 32],
    }
    <rand_chacha_03::ChaCha20Rng as rsa::rand_core::SeedableRng>::from_seed(seed)
}

fn err(e: impl std::fmt::Display) -> FuncError {
    FuncError::new(e.to_string())
}

fn rsa_key(
    rng: &mut rand_chacha_03::ChaCha20Rng,
    bits: usize,
) -> Result<rsa::RsaPrivateKey, FuncError> {
    rsa::RsaPrivateKey::new(rng, bits).map_err(err)
}

/// A signing key pair for rcgen plus Sprig's PEM of it.
fn key_pair_from_rsa(key: &rsa::RsaPrivateKey) -> Result<(rcgen::KeyPair, String), FuncError> {
    let pkcs8 = key.to_pkcs8_pem(LineEnding::LF).map_err(err)?;
    let kp = rcgen::KeyPair::from_pkcs8_pem_and_sign_algo(&pkcs8, &rcgen::PKCS_RSA_SHA256)
        .map_err(err)?;
    let pkcs1 = key.to_pkcs1_pem(LineEnding::LF).map_err(err)?;
    Ok((kp, pkcs1.to_string()))
}

/// A key pair from a PEM key argument (`...WithKey` forms and CA keys).
fn key_pair_from_pem(pem: &str) -> Result<(rcgen::KeyPair, String), FuncError> {
    use rsa::pkcs1::DecodeRsaPrivateKey;
    if let Ok(k) = rsa::RsaPrivateKey::from_pkcs1_pem(pem) {
        return key_pair_from_rsa(&k);
    }
    let kp = rcgen::KeyPair::from_pem(pem)
        .map_err(|e| err(format!("error parsing private key: {e}")))?;
    Ok((kp, pem.to_string()))
}

fn params(
    rng: &mut rand_chacha_03::ChaCha20Rng,
    cn: &str,
    ips: &[Value],
    dns: &[Value],
    days: i64,
) -> Result<rcgen::CertificateParams, FuncError> {
    let mut p = rcgen::CertificateParams::default();
    let mut dn = rcgen::DistinguishedName::new();
    dn.push(rcgen::DnType::CommonName, cn);
    p.distinguished_name = dn;
    for ip in ips {
        let s = ip
            .as_str()
            .ok_or_else(|| err(format!("error parsing ip: {ip:?} is not a string")))?;
        let addr: std::net::IpAddr = s
            .parse()
            .map_err(|_| err(format!("error parsing ip: {s}")))?;
        p.subject_alt_names.push(rcgen::SanType::IpAddress(addr));
    }
    for d in dns {
        let s = d.as_str().ok_or_else(|| {
            err(format!(
                "error processing alternate dns name: {d:?} is not a string"
            ))
        })?;
        p.subject_alt_names.push(rcgen::SanType::DnsName(
            s.to_string().try_into().map_err(err)?,
        ));
    }
    let mut serial = [0u8; 16];
    rsa::rand_core::RngCore::fill_bytes(rng, &mut serial);
    serial[0] &= 0x7f;
    p.serial_number = Some(rcgen::SerialNumber::from_slice(&serial));
    let start = super::dates::fixed_now().timestamp();
    p.not_before = time::OffsetDateTime::from_unix_timestamp(start).map_err(err)?;
    p.not_after = time::OffsetDateTime::from_unix_timestamp(start + days * 86400).map_err(err)?;
    p.key_usages = vec![
        rcgen::KeyUsagePurpose::KeyEncipherment,
        rcgen::KeyUsagePurpose::DigitalSignature,
    ];
    p.extended_key_usages = vec![
        rcgen::ExtendedKeyUsagePurpose::ServerAuth,
        rcgen::ExtendedKeyUsagePurpose::ClientAuth,
    ];
    p.is_ca = rcgen::IsCa::ExplicitNoCa;
    Ok(p)
}

fn list(v: &Value) -> Vec<Value> {
    super::conv::items(v).unwrap_or_default()
}

fn gen_ca(
    ctx: &mut CallContext<'_>,
    cn: &str,
    days: i64,
    key: Option<&str>,
) -> Result<Value, FuncError> {
    let mut rng = seeded(ctx);
    let (kp, key_pem) = match key {
        Some(k) => key_pair_from_pem(k)?,
        None => key_pair_from_rsa(&rsa_key(&mut rng, 2048)?)?,
    };
    let mut p = params(&mut rng, cn, &[], &[], days)?;
    p.extended_key_usages.clear();
    p.key_usages.push(rcgen::KeyUsagePurpose::KeyCertSign);
    p.is_ca = rcgen::IsCa::Ca(rcgen::BasicConstraints::Unconstrained);
    let cert = p.self_signed(&kp).map_err(err)?;
    Ok(Value::object(Certificate {
        cert: cert.pem(),
        key: key_pem,
    }))
}

fn gen_self_signed(
    ctx: &mut CallContext<'_>,
    a: &[Value],
    key: Option<&str>,
) -> Result<Value, FuncError> {
    let mut rng = seeded(ctx);
    let (kp, key_pem) = match key {
        Some(k) => key_pair_from_pem(k)?,
        None => key_pair_from_rsa(&rsa_key(&mut rng, 2048)?)?,
    };
    let p = params(
        &mut rng,
        a[0].as_str().unwrap_or_default(),
        &list(&a[1]),
        &list(&a[2]),
        a[3].as_i64().unwrap_or(0),
    )?;
    let cert = p.self_signed(&kp).map_err(err)?;
    Ok(Value::object(Certificate {
        cert: cert.pem(),
        key: key_pem,
    }))
}

fn gen_signed(
    ctx: &mut CallContext<'_>,
    a: &[Value],
    key: Option<&str>,
) -> Result<Value, FuncError> {
    let ca = &a[4];
    let field = |n: &str| match ca {
        Value::Object(o) => o.field(n).and_then(|v| v.as_str().map(str::to_string)),
        Value::Map(m) => m.get(n).and_then(|v| v.as_str().map(str::to_string)),
        _ => None,
    };
    let (Some(ca_cert), Some(ca_key)) = (field("Cert"), field("Key")) else {
        return Err(err(
            "error parsing CA: expected a certificate with Cert and Key",
        ));
    };
    let (ca_kp, _) = key_pair_from_pem(&ca_key)?;
    let ca_params = rcgen::CertificateParams::from_ca_cert_pem(&ca_cert)
        .map_err(|e| err(format!("error parsing CA certificate: {e}")))?;
    let issuer = ca_params.self_signed(&ca_kp).map_err(err)?;
    let mut rng = seeded(ctx);
    let (kp, key_pem) = match key {
        Some(k) => key_pair_from_pem(k)?,
        None => key_pair_from_rsa(&rsa_key(&mut rng, 2048)?)?,
    };
    let p = params(
        &mut rng,
        a[0].as_str().unwrap_or_default(),
        &list(&a[1]),
        &list(&a[2]),
        a[3].as_i64().unwrap_or(0),
    )?;
    let cert = p.signed_by(&kp, &issuer, &ca_kp).map_err(err)?;
    Ok(Value::object(Certificate {
        cert: cert.pem(),
        key: key_pem,
    }))
}

fn private_key(ctx: &mut CallContext<'_>, typ: &str) -> Result<String, FuncError> {
    let mut rng = seeded(ctx);
    match typ {
        "" | "rsa" => Ok(rsa_key(&mut rng, 4096)?
            .to_pkcs1_pem(LineEnding::LF)
            .map_err(err)?
            .to_string()),
        "ecdsa" => {
            let k = p256::SecretKey::random(&mut rng);
            Ok(k.to_sec1_pem(LineEnding::LF).map_err(err)?.to_string())
        }
        "ed25519" => {
            let mut seed = [0u8; 32];
            rsa::rand_core::RngCore::fill_bytes(&mut rng, &mut seed);
            let mut der = hex::decode("302e020100300506032b657004220420").unwrap_or_default();
            der.extend_from_slice(&seed);
            let b64 = base64::engine::general_purpose::STANDARD.encode(der);
            Ok(format!(
                "-----BEGIN PRIVATE KEY-----\n{b64}\n-----END PRIVATE KEY-----\n"
            ))
        }
        other => Err(err(format!("Unknown type {other}"))),
    }
}

fn bcrypt_hash(ctx: &mut CallContext<'_>, password: &str) -> Result<String, FuncError> {
    let mut salt = [0u8; 16];
    match ctx.state::<RenderState>() {
        Some(st) => st.rng.fill_bytes(&mut salt),
        None => salt = [1; 16],
    }
    let parts = bcrypt::hash_with_salt(password, bcrypt::DEFAULT_COST, salt).map_err(err)?;
    Ok(parts.format_for_version(bcrypt::Version::TwoA))
}

/// Sprig's `buildCustomCert`: a certificate object from a base64 PEM certificate and key, both
/// checked to parse.
fn build_custom_cert(b64cert: &str, b64key: &str) -> Result<Value, FuncError> {
    let decode = |text: &str, what: &str| {
        base64::engine::general_purpose::STANDARD
            .decode(text)
            .map_err(|_| err(format!("unable to decode base64 {what}")))
            .map(|b| String::from_utf8_lossy(&b).into_owned())
    };
    let cert = decode(b64cert, "certificate")?;
    let key = decode(b64key, "private key")?;
    if !cert.contains("-----BEGIN ") {
        return Err(err("unable to decode certificate"));
    }
    rcgen::CertificateParams::from_ca_cert_pem(&cert)
        .map_err(|e| err(format!("error parsing certificate: decodedCert.Bytes: {e}")))?;
    key_pair_from_pem(&key)?;
    Ok(Value::object(Certificate { cert, key }))
}

pub fn register(m: &mut FuncMap) {
    m.insert(
        "buildCustomCert",
        Signature::fixed(&[A::String, A::String]),
        |_, a| {
            build_custom_cert(
                a[0].as_str().unwrap_or_default(),
                a[1].as_str().unwrap_or_default(),
            )
        },
    );
    m.insert("genCA", Signature::fixed(&[A::String, A::Int]), |ctx, a| {
        gen_ca(
            ctx,
            a[0].as_str().unwrap_or_default(),
            a[1].as_i64().unwrap_or(0),
            None,
        )
    });
    m.insert(
        "genCAWithKey",
        Signature::fixed(&[A::String, A::Int, A::String]),
        |ctx, a| {
            gen_ca(
                ctx,
                a[0].as_str().unwrap_or_default(),
                a[1].as_i64().unwrap_or(0),
                a[2].as_str(),
            )
        },
    );
    m.insert(
        "genSelfSignedCert",
        Signature::fixed(&[A::String, A::List, A::List, A::Int]),
        |ctx, a| gen_self_signed(ctx, a, None),
    );
    m.insert(
        "genSelfSignedCertWithKey",
        Signature::fixed(&[A::String, A::List, A::List, A::Int, A::String]),
        |ctx, a| gen_self_signed(ctx, a, a[4].as_str()),
    );
    m.insert(
        "genSignedCert",
        Signature::fixed(&[A::String, A::List, A::List, A::Int, A::Any]),
        |ctx, a| gen_signed(ctx, a, None),
    );
    m.insert(
        "genSignedCertWithKey",
        Signature::fixed(&[A::String, A::List, A::List, A::Int, A::Any, A::String]),
        |ctx, a| gen_signed(ctx, a, a[5].as_str()),
    );
    m.insert("genPrivateKey", Signature::fixed(&[A::String]), |ctx, a| {
        private_key(ctx, a[0].as_str().unwrap_or_default()).map(Value::from)
    });
    m.insert(
        "htpasswd",
        Signature::fixed(&[A::String, A::String]),
        |ctx, a| {
            let user = a[0].as_str().unwrap_or_default();
            if user.contains(':') {
                return Ok(Value::from("invalid username: contains ':'"));
            }
            Ok(Value::from(format!(
                "{user}:{}",
                bcrypt_hash(ctx, a[1].as_str().unwrap_or_default())?
            )))
        },
    );
    m.insert("bcrypt", Signature::fixed(&[A::String]), |ctx, a| {
        bcrypt_hash(ctx, a[0].as_str().unwrap_or_default()).map(Value::from)
    });
    m.insert(
        "encryptAES",
        Signature::fixed(&[A::String, A::String]),
        |ctx, a| {
            use aes::cipher::{BlockEncryptMut, KeyIvInit, block_padding::Pkcs7};
            let mut key = [0u8; 32];
            let k = a[0].as_str().unwrap_or_default().as_bytes();
            key[..k.len().min(32)].copy_from_slice(&k[..k.len().min(32)]);
            let mut iv = [0u8; 16];
            match ctx.state::<RenderState>() {
                Some(st) => st.rng.fill_bytes(&mut iv),
                None => iv = [2; 16],
            }
            let ct = cbc::Encryptor::<aes::Aes256>::new(&key.into(), &iv.into())
                .encrypt_padded_vec_mut::<Pkcs7>(a[1].as_str().unwrap_or_default().as_bytes());
            let mut out = iv.to_vec();
            out.extend(ct);
            Ok(Value::from(
                base64::engine::general_purpose::STANDARD.encode(out),
            ))
        },
    );
    m.insert(
        "decryptAES",
        Signature::fixed(&[A::String, A::String]),
        |_, a| {
            use aes::cipher::{BlockDecryptMut, KeyIvInit, block_padding::Pkcs7};
            let mut key = [0u8; 32];
            let k = a[0].as_str().unwrap_or_default().as_bytes();
            key[..k.len().min(32)].copy_from_slice(&k[..k.len().min(32)]);
            let data = base64::engine::general_purpose::STANDARD
                .decode(a[1].as_str().unwrap_or_default())
                .map_err(err)?;
            if data.len() < 16 {
                return Err(err("ciphertext too short"));
            }
            let (iv, ct) = data.split_at(16);
            let iv: [u8; 16] = iv.try_into().map_err(err)?;
            let pt = cbc::Decryptor::<aes::Aes256>::new(&key.into(), &iv.into())
                .decrypt_padded_vec_mut::<Pkcs7>(ct)
                .map_err(err)?;
            Ok(Value::from(String::from_utf8_lossy(&pt).into_owned()))
        },
    );
}
