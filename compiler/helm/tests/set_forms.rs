//! `--set` expressions (Helm's strvals syntax) parsed by kiln and by the real `helm template`: the
//! resulting values, their Go types (`int64` for integers, strings for the rest) and the error
//! messages of malformed expressions must be the same.

mod common;

use std::process::Command;

use kiln_helm::{Chart, RenderOptions};

const EXPRESSIONS: &[&str] = &[
    "a=1",
    "a=-5",
    "a=+1",
    "a=0",
    "a=007",
    "a=0x10",
    "a=1.5",
    "a=1e3",
    "a=9007199254740993",
    "a=12345678901234567890",
    "a=true",
    "a=False",
    "a=yes",
    "a=null",
    "a=~",
    "rm=null",
    "keep.a=null",
    "a=",
    "a={x,y}",
    "a={1,true,x}",
    "a={}",
    "a={x\\,y}",
    "a=[1]",
    "a[1]=x",
    "list[5]=9",
    "list[0]=z",
    "a[0][1]=x",
    "a.b[0].c=1,a.b[1].d=2",
    "a\\.b=1",
    "a=x\\,y",
    "a=x,b=y",
    "a=\"q\"",
    "name=a=b",
    "a.b=c,a=d",
    " a=1",
    "=1",
    // Malformed: Helm's messages.
    "a=c,a.b=d",
    "str.x=1",
    "str[0]=1",
    "keep[0]=1",
    "a..b=1",
    "a.b.c",
    "a,b=1",
    "a[-1]=x",
    "a[x]=1",
    "a[1=x",
];

fn helm(helm: &std::path::Path, set: &str) -> Result<String, String> {
    let out = Command::new(helm)
        .current_dir(common::fixtures())
        .args(["template", "r", "setvalues", "--set", set])
        .output()
        .expect("run helm");
    if out.status.success() {
        Ok(String::from_utf8_lossy(&out.stdout).into_owned())
    } else {
        let err = String::from_utf8_lossy(&out.stderr);
        let first = err.lines().next().unwrap_or_default();
        Err(first.strip_prefix("Error: ").unwrap_or(first).to_string())
    }
}

fn kiln(set: &str) -> Result<String, String> {
    let chart = Chart::load(&common::fixtures().join("setvalues")).expect("load");
    let opts = RenderOptions {
        release: "r".into(),
        set: vec![set.to_string()],
        ..RenderOptions::default()
    };
    kiln_helm::render::render_chart(&chart, &opts)
        .map(|r| r.to_helm_output())
        .map_err(|e| e.message().to_string())
}

#[test]
fn set_expressions_parse_like_helm() {
    let Some(bin) = common::helm() else {
        eprintln!(
            "\n*** SKIPPING --set comparison: reference helm not found (set KILN_ORACLES) ***\n"
        );
        return;
    };
    let mut differ = Vec::new();
    for set in EXPRESSIONS {
        let (want, got) = (helm(&bin, set), kiln(set));
        if want != got {
            differ.push(format!("--set {set:?}\n  helm: {want:?}\n  kiln: {got:?}"));
        }
    }
    assert!(differ.is_empty(), "{}", differ.join("\n"));
}
