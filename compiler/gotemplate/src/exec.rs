//! The executor: walks a parsed tree with data, following Go's `text/template/exec.go` (field
//! chains, method calls, function calls with argument conversion, pipelines, variables,
//! control structures, template calls) so that output and error messages match Go's.

mod memo;

use std::any::Any;
use std::sync::Arc;

use crate::ast::{Arg, Branch, Command, Func, Node, Number, Pipe, TemplateCall, Tree};
use crate::builtins::Builtin;
use crate::error::{Error, ExecError, Location};
use crate::func::{ArgType, CallContext, ExecHost, FuncError};
use crate::gofmt;
use crate::parse;
use crate::template::{MissingKey, Templates};
use crate::textcache::ParsedText;
use crate::value::{Value, WriteCheck};
use memo::IncludeMemo;

/// Go's `maxExecDepth`.
const MAX_EXEC_DEPTH: usize = 100_000;
/// Stack kept free before recursing; more is allocated on the heap when less remains.
const RED_ZONE: usize = 128 * 1024;
const STACK_GROWTH: usize = 2 * 1024 * 1024;

pub(crate) fn execute(
    set: &Templates,
    name: &str,
    data: Value,
    user: Option<&mut (dyn Any + Send)>,
) -> Result<String, Error> {
    let Some(tree) = set.trees.get(name).cloned() else {
        return Err(Error::NoTemplate {
            name: name.to_string(),
            set: set.name.clone(),
        });
    };
    let mut shared = Shared {
        set,
        overlays: Vec::new(),
        user,
        depth: 0,
        calls: Vec::new(),
        buffers: Vec::new(),
        memo: IncludeMemo::default(),
        stateful_calls: 0,
    };
    // Output is usually about as long as the file: growing to it would copy it several times.
    let mut out = String::with_capacity(tree.text.len());
    run_tree(&mut shared, &tree, data, &mut out)?;
    Ok(out)
}

/// State shared by every template executing within one `execute` call.
struct Shared<'t> {
    set: &'t Templates,
    /// Templates defined by texts run through `CallContext::execute_text`, innermost last
    /// (a text defines few templates, each name once).
    overlays: Vec<Vec<Arc<Tree>>>,
    user: Option<&'t mut (dyn Any + Send)>,
    depth: usize,
    /// `{{template}}` calls leading to the running template, outermost first.
    calls: Vec<CallSite>,
    /// Output buffers of finished `include`/`tpl` calls, kept for the next ones: their text is
    /// copied out once, at its final size, and the buffers stop growing after the first few.
    buffers: Vec<String>,
    /// Texts of earlier includes, served again when nothing they depend on changed.
    memo: IncludeMemo,
    /// Calls of stateful functions so far (see [`crate::FuncMap::mark_stateful`]).
    stateful_calls: u64,
}

/// Where a `{{template}}` call happened; turned into a [`Location`] only when an error needs it.
struct CallSite {
    name: Arc<str>,
    parse_name: Arc<str>,
    text: Arc<str>,
    pos: usize,
}

impl Shared<'_> {
    /// Runs `tree` into a reused buffer, outside the `{{template}}` calls leading here
    /// (functions' errors do not show them), and returns the text.
    fn render_nested(&mut self, tree: &Tree, data: Value) -> Result<Arc<str>, Error> {
        let mut out = self.buffers.pop().unwrap_or_default();
        out.clear();
        let calls = std::mem::take(&mut self.calls);
        let r = run_tree(self, tree, data, &mut out);
        self.calls = calls;
        let text = r.map(|()| Arc::from(out.as_str()));
        self.buffers.push(out);
        text
    }

    fn lookup(&self, name: &str) -> Option<Arc<Tree>> {
        for o in self.overlays.iter().rev() {
            if let Some(t) = o.iter().find(|t| t.name == name) {
                return Some(t.clone());
            }
        }
        self.set.trees.get(name).cloned()
    }
}

fn run_tree(sh: &mut Shared<'_>, tree: &Tree, dot: Value, out: &mut String) -> Result<(), Error> {
    let mut frame = Frame {
        sh,
        tree,
        vars: vec![Var {
            name: "$",
            slot: Slot::concrete(dot.clone()),
        }],
        cur: None,
    };
    let dot = Slot::concrete(dot);
    stacker::maybe_grow(RED_ZONE, STACK_GROWTH, || {
        frame.walk_list(&dot, &tree.root, out)
    })?;
    Ok(())
}

/// A value with its static type: `iface` when it came out of a container (`interface{}`), which
/// decides between Go's "nil pointer evaluating interface {}.x" and silently missing values.
#[derive(Clone)]
struct Slot {
    v: Value,
    iface: bool,
}

impl Slot {
    fn concrete(v: Value) -> Self {
        Slot { v, iface: false }
    }
    fn iface(v: Value) -> Self {
        Slot { v, iface: true }
    }
}

struct Var<'n> {
    name: &'n str,
    slot: Slot,
}

#[derive(Clone, Copy)]
enum Cur<'n> {
    Node(&'n Node),
    Pipe(&'n Pipe),
    Cmd(&'n Command),
    Arg(&'n Arg),
    Number(&'n Number),
}

impl Cur<'_> {
    fn pos(&self) -> usize {
        match self {
            Cur::Node(n) => match n {
                Node::Action(a) => a.pos(),
                Node::If(b) | Node::With(b) | Node::Range(b) => b.pos,
                Node::Template(t) => t.pos,
                Node::Break(p) | Node::Continue(p) => *p,
                Node::Text(_) => 0,
            },
            Cur::Pipe(p) => p.pos as usize,
            Cur::Cmd(c) => c.pos,
            Cur::Arg(a) => a.pos(),
            Cur::Number(n) => n.pos,
        }
    }
}

impl Cur<'_> {
    /// Go's `String()` of the node; `source` is the source of its tree.
    fn display(&self, source: &str) -> String {
        match self {
            Cur::Node(n) => n.display(source).to_string(),
            Cur::Pipe(p) => p.to_string(),
            Cur::Cmd(c) => c.to_string(),
            Cur::Arg(a) => a.to_string(),
            Cur::Number(n) => n.text.to_string(),
        }
    }
}

enum Flow {
    Normal,
    Break,
    Continue,
}

type R<T> = Result<T, Error>;

/// A call's arguments: few enough, nearly always, to stay off the heap.
type Args = smallvec::SmallVec<[Value; 4]>;

struct Frame<'f, 't, 'n> {
    sh: &'f mut Shared<'t>,
    tree: &'n Tree,
    vars: Vec<Var<'n>>,
    cur: Option<Cur<'n>>,
}

fn location_of(tree: &Tree, pos: usize) -> Location {
    location_in(&tree.text, &tree.parse_name, pos)
}

fn location_in(text: &str, parse_name: &str, pos: usize) -> Location {
    let text = &text[..pos.min(text.len())];
    let line_start = text.rfind('\n').map_or(0, |i| i + 1);
    Location {
        parse_name: parse_name.to_string(),
        line: 1 + text.matches('\n').count(),
        col: if line_start == 0 {
            pos
        } else {
            pos - line_start
        },
        offset: pos,
    }
}

impl<'f, 't, 'n> Frame<'f, 't, 'n> {
    fn at(&mut self, c: Cur<'n>) {
        self.cur = Some(c);
    }

    fn error(&self, message: String) -> Error {
        self.error_with_cause(message, None)
    }

    fn error_with_cause(&self, message: String, cause: Option<Box<Error>>) -> Error {
        let (location, context) = match self.cur {
            Some(c) => (
                Some(location_of(self.tree, c.pos())),
                c.display(&self.tree.text),
            ),
            None => (None, String::new()),
        };
        Error::Exec(Box::new(ExecError {
            template: self.tree.name.clone(),
            location,
            context,
            message,
            cause,
            call_stack: self
                .sh
                .calls
                .iter()
                .map(|c| {
                    (
                        c.name.to_string(),
                        location_in(&c.text, &c.parse_name, c.pos),
                    )
                })
                .collect(),
        }))
    }

    // ---- variables ----

    fn push(&mut self, name: &'n str, slot: Slot) {
        self.vars.push(Var { name, slot });
    }

    fn set_var(&mut self, name: &str, v: Value) -> R<()> {
        for var in self.vars.iter_mut().rev() {
            if var.name == name {
                var.slot = Slot::concrete(v);
                return Ok(());
            }
        }
        Err(self.error(format!("undefined variable: {name}")))
    }

    fn set_top_var(&mut self, n: usize, slot: Slot) {
        let len = self.vars.len();
        self.vars[len - n].slot = slot;
    }

    fn var_value(&self, name: &str) -> R<Slot> {
        for var in self.vars.iter().rev() {
            if var.name == name {
                return Ok(var.slot.clone());
            }
        }
        Err(self.error(format!("undefined variable: {name}")))
    }

    // ---- walking ----

    fn walk_list(&mut self, dot: &Slot, list: &'n [Node], out: &mut String) -> R<Flow> {
        for node in list {
            match self.walk(dot, node, out)? {
                Flow::Normal => {}
                other => return Ok(other),
            }
        }
        Ok(Flow::Normal)
    }

    fn walk(&mut self, dot: &Slot, node: &'n Node, out: &mut String) -> R<Flow> {
        match node {
            Node::Text(t) => {
                out.push_str(t.of(&self.tree.text));
                Ok(Flow::Normal)
            }
            Node::Action(a) => {
                self.at(Cur::Node(node));
                let v = self.eval_pipeline(dot, &a.pipe)?;
                if a.pipe.decl.is_empty() {
                    self.at(Cur::Node(node));
                    print_value(out, &v);
                }
                Ok(Flow::Normal)
            }
            Node::If(b) => {
                self.at(Cur::Node(node));
                stacker::maybe_grow(RED_ZONE, STACK_GROWTH, || {
                    self.walk_if_or_with(false, dot, b, out)
                })
            }
            Node::With(b) => {
                self.at(Cur::Node(node));
                stacker::maybe_grow(RED_ZONE, STACK_GROWTH, || {
                    self.walk_if_or_with(true, dot, b, out)
                })
            }
            Node::Range(b) => {
                self.at(Cur::Node(node));
                stacker::maybe_grow(RED_ZONE, STACK_GROWTH, || self.walk_range(dot, b, out))
            }
            Node::Template(t) => {
                self.at(Cur::Node(node));
                self.walk_template(dot, t, out)?;
                Ok(Flow::Normal)
            }
            Node::Break(_) => Ok(Flow::Break),
            Node::Continue(_) => Ok(Flow::Continue),
        }
    }

    fn walk_if_or_with(
        &mut self,
        with: bool,
        dot: &Slot,
        b: &'n Branch,
        out: &mut String,
    ) -> R<Flow> {
        let mark = self.vars.len();
        let r = (|| {
            let val = self.eval_pipeline(dot, &b.pipe)?;
            if val.is_true() {
                if with {
                    self.walk_list(&Slot::concrete(val), &b.list, out)
                } else {
                    self.walk_list(dot, &b.list, out)
                }
            } else if let Some(e) = &b.else_list {
                self.walk_list(dot, e, out)
            } else {
                Ok(Flow::Normal)
            }
        })();
        self.vars.truncate(mark);
        r
    }

    fn walk_range(&mut self, dot: &Slot, r: &'n Branch, out: &mut String) -> R<Flow> {
        let outer_mark = self.vars.len();
        let res = self.walk_range_inner(dot, r, out);
        self.vars.truncate(outer_mark);
        res.map(|()| Flow::Normal)
    }

    fn walk_range_inner(&mut self, dot: &Slot, r: &'n Branch, out: &mut String) -> R<()> {
        let val = self.eval_pipeline(dot, &r.pipe)?;
        let val = match &val {
            Value::Object(o) => o.underlying().unwrap_or(val),
            _ => val,
        };
        let mark = self.vars.len();
        let ndecl = r.pipe.decl.len();
        match &val {
            Value::List(l) => {
                if !l.is_empty() {
                    for (i, e) in l.iter().enumerate() {
                        if !self.one_iteration(
                            r,
                            mark,
                            Slot::concrete(Value::from(i)),
                            Slot::iface(e.clone()),
                            out,
                        )? {
                            break;
                        }
                    }
                    return Ok(());
                }
            }
            Value::Bytes(b) => {
                if !b.is_empty() {
                    for (i, e) in b.iter().enumerate() {
                        let elem = Slot::concrete(Value::Int(i64::from(*e)));
                        if !self.one_iteration(
                            r,
                            mark,
                            Slot::concrete(Value::from(i)),
                            elem,
                            out,
                        )? {
                            break;
                        }
                    }
                    return Ok(());
                }
            }
            Value::Map(m) => {
                if !m.is_empty() {
                    for (k, e) in m.entries() {
                        if !self.one_iteration(
                            r,
                            mark,
                            Slot::concrete(Value::from(k)),
                            Slot::iface(e),
                            out,
                        )? {
                            break;
                        }
                    }
                    return Ok(());
                }
            }
            Value::Int(n) => {
                if ndecl > 1 {
                    return Err(self.error(format!(
                        "can't use {} to iterate over more than one variable",
                        gofmt::sprint_value(&val)
                    )));
                }
                if *n > 0 {
                    for i in 0..*n {
                        let v = Slot::concrete(Value::Int(i));
                        if !self.one_iteration(r, mark, Slot::concrete(Value::Nil), v, out)? {
                            break;
                        }
                    }
                    return Ok(());
                }
            }
            Value::Nil => {}
            other => {
                return Err(self.error(format!(
                    "range can't iterate over {}",
                    gofmt::sprint_value(other)
                )));
            }
        }
        if let Some(e) = &r.else_list {
            self.walk_list(dot, e, out)?;
        }
        Ok(())
    }

    /// One pass of a range body; false when `{{break}}` ended the loop.
    fn one_iteration(
        &mut self,
        r: &'n Branch,
        mark: usize,
        index: Slot,
        elem: Slot,
        out: &mut String,
    ) -> R<bool> {
        let decl = &r.pipe.decl;
        if !decl.is_empty() {
            if r.pipe.is_assign {
                if decl.len() > 1 {
                    self.set_var(&decl[0].1, index.v.clone())?;
                } else {
                    self.set_var(&decl[0].1, elem.v.clone())?;
                }
            } else {
                self.set_top_var(1, elem.clone());
            }
        }
        if decl.len() > 1 {
            if r.pipe.is_assign {
                self.set_var(&decl[1].1, elem.v.clone())?;
            } else {
                self.set_top_var(2, index);
            }
        }
        let flow = self.walk_list(&elem, &r.list, out);
        self.vars.truncate(mark);
        Ok(!matches!(flow?, Flow::Break))
    }

    fn walk_template(&mut self, dot: &Slot, t: &'n TemplateCall, out: &mut String) -> R<()> {
        let Some(tree) = self.sh.lookup(&t.name) else {
            return Err(self.error(format!("template {} not defined", gofmt::quote(&t.name))));
        };
        if self.sh.depth >= MAX_EXEC_DEPTH {
            return Err(self.error(format!(
                "exceeded maximum template depth ({MAX_EXEC_DEPTH})"
            )));
        }
        let new_dot = match &t.pipe {
            Some(p) => self.eval_pipeline(dot, p)?,
            None => Value::Nil,
        };
        let _ = dot;
        self.sh.calls.push(CallSite {
            name: tree.name.as_str().into(),
            parse_name: self.tree.parse_name.clone(),
            text: self.tree.text.clone(),
            pos: t.pos,
        });
        self.sh.depth += 1;
        let r = run_tree(self.sh, &tree, new_dot, out);
        self.sh.depth -= 1;
        self.sh.calls.pop();
        r
    }

    // ---- evaluation ----

    fn eval_pipeline(&mut self, dot: &Slot, pipe: &'n Pipe) -> R<Value> {
        self.at(Cur::Pipe(pipe));
        let mut value: Option<Value> = None;
        for cmd in &pipe.cmds {
            let v = self.eval_command(dot, cmd, value.take())?;
            value = Some(v.v);
        }
        let value = value.unwrap_or_default();
        for (_, name) in &pipe.decl {
            if pipe.is_assign {
                self.set_var(name, value.clone())?;
            } else {
                self.push(name, Slot::concrete(value.clone()));
            }
        }
        Ok(value)
    }

    fn not_a_function(&self, args: &[Arg], final_: &Option<Value>) -> R<()> {
        if args.len() > 1 || final_.is_some() {
            return Err(self.error(format!("can't give argument to non-function {}", args[0])));
        }
        Ok(())
    }

    fn eval_command(&mut self, dot: &Slot, cmd: &'n Command, final_: Option<Value>) -> R<Slot> {
        let first = &cmd.args[0];
        match first {
            Arg::Field { idents, .. } => {
                self.at(Cur::Arg(first));
                return self.eval_field_chain(dot, dot.clone(), first, idents, &cmd.args, final_);
            }
            Arg::Chain { .. } => return self.eval_chain(dot, first, &cmd.args, final_),
            Arg::Ident { .. } => {
                return self.eval_function(dot, first, Cur::Cmd(cmd), &cmd.args, final_);
            }
            Arg::Pipe(p) => {
                self.not_a_function(&cmd.args, &final_)?;
                return stacker::maybe_grow(RED_ZONE, STACK_GROWTH, || self.eval_pipeline(dot, p))
                    .map(Slot::concrete);
            }
            Arg::Variable { .. } => return self.eval_variable(dot, first, &cmd.args, final_),
            _ => {}
        }
        self.at(Cur::Arg(first));
        self.not_a_function(&cmd.args, &final_)?;
        match first {
            Arg::Bool(_, b) => Ok(Slot::concrete(Value::Bool(*b))),
            Arg::Dot(_) => Ok(dot.clone()),
            Arg::Nil(_) => Err(self.error("nil is not a command".into())),
            Arg::Number(n) => self.ideal_constant(n).map(Slot::concrete),
            Arg::String { literal, .. } => Ok(Slot::concrete(Value::String(literal.value.clone()))),
            other => Err(self.error(format!(
                "can't evaluate command {}",
                gofmt::quote(&other.to_string())
            ))),
        }
    }

    fn ideal_constant(&mut self, n: &'n Number) -> R<Value> {
        self.at(Cur::Number(n));
        let text = &*n.text;
        let is_hex_int = text.len() > 2
            && text.starts_with('0')
            && matches!(text.as_bytes()[1], b'x' | b'X')
            && !text.contains(['p', 'P']);
        let is_rune = text.starts_with('\'');
        if n.is_float && !is_hex_int && !is_rune && text.contains(['.', 'e', 'E', 'p', 'P']) {
            return Ok(Value::Float(n.float));
        }
        if n.is_int {
            return Ok(Value::Int(n.int));
        }
        if n.is_uint {
            return Err(self.error(format!("{text} overflows int")));
        }
        Ok(Value::Nil)
    }

    fn eval_chain(
        &mut self,
        dot: &Slot,
        chain: &'n Arg,
        args: &'n [Arg],
        final_: Option<Value>,
    ) -> R<Slot> {
        self.at(Cur::Arg(chain));
        let Arg::Chain { node, fields, .. } = chain else {
            return Err(self.error("internal error: not a chain".into()));
        };
        if let Arg::Nil(_) = **node {
            return Err(self.error(format!("indirection through explicit nil in {chain}")));
        }
        let pipe = self.eval_arg(dot, ArgType::Any, node)?;
        self.eval_field_chain(dot, Slot::concrete(pipe), chain, fields, args, final_)
    }

    fn eval_variable(
        &mut self,
        dot: &Slot,
        var: &'n Arg,
        args: &'n [Arg],
        final_: Option<Value>,
    ) -> R<Slot> {
        self.at(Cur::Arg(var));
        let Arg::Variable { idents, .. } = var else {
            return Err(self.error("internal error: not a variable".into()));
        };
        let value = self.var_value(&idents[0])?;
        if idents.len() == 1 {
            self.not_a_function(args, &final_)?;
            return Ok(value);
        }
        self.eval_field_chain(dot, value, var, &idents[1..], args, final_)
    }

    fn eval_field_chain(
        &mut self,
        dot: &Slot,
        mut receiver: Slot,
        node: &'n Arg,
        idents: &[Arc<str>],
        args: &'n [Arg],
        final_: Option<Value>,
    ) -> R<Slot> {
        let n = idents.len();
        for ident in &idents[..n - 1] {
            receiver = self.eval_field(dot, ident, node, &[], None, receiver)?;
        }
        self.eval_field(dot, &idents[n - 1], node, args, final_, receiver)
    }

    fn eval_field(
        &mut self,
        dot: &Slot,
        name: &str,
        node: &'n Arg,
        args: &'n [Arg],
        final_: Option<Value>,
        receiver: Slot,
    ) -> R<Slot> {
        if receiver.v.is_nil() {
            if !receiver.iface {
                if self.sh.set.missing_key == MissingKey::Error {
                    return Err(
                        self.error(format!("nil data; no entry for key {}", gofmt::quote(name)))
                    );
                }
                return Ok(Slot::concrete(Value::Nil));
            }
            return Err(self.error(format!("nil pointer evaluating interface {{}}.{name}")));
        }
        let has_args = args.len() > 1 || final_.is_some();
        let type_name = || {
            if receiver.iface {
                "interface {}".to_string()
            } else {
                receiver.v.type_name()
            }
        };
        match &receiver.v {
            Value::Map(m) => {
                if has_args {
                    return Err(self.error(format!("{name} is not a method but has arguments")));
                }
                self.map_index(m, name)
            }
            Value::Object(o) => {
                let o = o.clone();
                let argv = self.eval_method_args(dot, args, final_)?;
                if let Some(r) = o.call_method(name, &argv) {
                    return match r {
                        Ok(v) => Ok(Slot::concrete(v)),
                        Err(e) => {
                            self.at(Cur::Arg(node));
                            Err(self.func_error(name, e))
                        }
                    };
                }
                if let Some(v) = o.field(name) {
                    if has_args {
                        return Err(self.error(format!(
                            "{name} has arguments but cannot be invoked as function"
                        )));
                    }
                    return Ok(Slot::concrete(v));
                }
                if let Some(Value::Map(m)) = o.underlying() {
                    if has_args {
                        return Err(self.error(format!("{name} is not a method but has arguments")));
                    }
                    return self.map_index(&m, name);
                }
                Err(self.error(format!(
                    "can't evaluate field {name} in type {}",
                    type_name()
                )))
            }
            _ => Err(self.error(format!(
                "can't evaluate field {name} in type {}",
                type_name()
            ))),
        }
    }

    fn map_index(&self, m: &crate::value::Map, name: &str) -> R<Slot> {
        match m.get(name) {
            Some(v) => Ok(Slot::iface(v)),
            None => match self.sh.set.missing_key {
                MissingKey::Default => Ok(Slot::concrete(Value::Nil)),
                MissingKey::Zero => Ok(Slot::iface(Value::Nil)),
                MissingKey::Error => {
                    Err(self.error(format!("map has no entry for key {}", gofmt::quote(name))))
                }
            },
        }
    }

    fn eval_method_args(&mut self, dot: &Slot, args: &'n [Arg], final_: Option<Value>) -> R<Args> {
        let mut argv = Args::with_capacity(args.len());
        if args.len() > 1 {
            for a in &args[1..] {
                argv.push(self.eval_arg(dot, ArgType::Any, a)?);
            }
        }
        if let Some(f) = final_ {
            argv.push(f);
        }
        Ok(argv)
    }

    fn eval_function(
        &mut self,
        dot: &Slot,
        ident: &'n Arg,
        node: Cur<'n>,
        args: &'n [Arg],
        final_: Option<Value>,
    ) -> R<Slot> {
        self.at(Cur::Arg(ident));
        let Arg::Ident { name, func, .. } = ident else {
            return Err(self.error("internal error: not a function".into()));
        };
        self.eval_call(dot, func, node, name, args, final_)
            .map(Slot::concrete)
    }

    fn eval_call(
        &mut self,
        dot: &Slot,
        func: &'n Func,
        node: Cur<'n>,
        name: &str,
        args: &'n [Arg],
        final_: Option<Value>,
    ) -> R<Value> {
        let args = if args.is_empty() { args } else { &args[1..] };
        let (params, variadic): (&[ArgType], Option<ArgType>) = match func {
            Func::Builtin(b) => b.params(),
            Func::User(f) => (&f.signature.params, f.signature.variadic),
        };
        let num_in = args.len() + usize::from(final_.is_some());
        let num_fixed;
        if variadic.is_some() {
            num_fixed = params.len();
            if num_in < num_fixed {
                return Err(self.error(format!(
                    "wrong number of args for {name}: want at least {} got {}",
                    params.len(),
                    args.len()
                )));
            }
        } else {
            num_fixed = args.len();
            if num_in != params.len() {
                return Err(self.error(format!(
                    "wrong number of args for {name}: want {} got {num_in}",
                    params.len()
                )));
            }
        }
        if let Func::Builtin(b @ (Builtin::And | Builtin::Or)) = func {
            let is_or = *b == Builtin::Or;
            let mut v = Value::Nil;
            for a in args {
                v = self.eval_arg(dot, ArgType::Any, a)?;
                if v.is_true() == is_or {
                    return Ok(v);
                }
            }
            if let Some(f) = final_ {
                v = f;
            }
            return Ok(v);
        }
        let mut argv = Args::with_capacity(num_in);
        let mut i = 0;
        while i < num_fixed && i < args.len() {
            argv.push(self.eval_arg(dot, params[i], &args[i])?);
            i += 1;
        }
        if let Some(rest) = variadic {
            while i < args.len() {
                argv.push(self.eval_arg(dot, rest, &args[i])?);
                i += 1;
            }
        }
        if let Some(f) = final_ {
            let t = if variadic.is_some() && num_in > num_fixed {
                variadic.unwrap_or(ArgType::Any)
            } else {
                params.get(num_in - 1).copied().unwrap_or(ArgType::Any)
            };
            argv.push(self.validate_type(f, t)?);
        }
        let result = match func {
            Func::Builtin(Builtin::Call) => self.call_builtin(args, &argv),
            Func::Builtin(b) => b.apply(&argv),
            Func::User(f) => {
                if f.stateful {
                    self.sh.stateful_calls += 1;
                }
                let mut host = Host {
                    sh: &mut *self.sh,
                    template_name: &self.tree.name,
                };
                let mut ctx = CallContext { host: &mut host };
                (f.body)(&mut ctx, &argv)
            }
        };
        match result {
            Ok(v) => Ok(v),
            Err(e) => {
                self.at(node);
                Err(self.func_error(name, e))
            }
        }
    }

    fn func_error(&self, name: &str, e: FuncError) -> Error {
        let cause = e.template_error().map(|t| Box::new(t.clone()));
        self.error_with_cause(format!("error calling {name}: {e}"), cause)
    }

    fn call_builtin(&mut self, args: &'n [Arg], argv: &[Value]) -> Result<Value, FuncError> {
        let f = &argv[0];
        let shown = args.first().map(|a| a.to_string()).unwrap_or_default();
        match f {
            Value::Nil => Err(FuncError::new("call of nil")),
            Value::Object(o) => match o.call(&argv[1..]) {
                Some(r) => r,
                None => Err(FuncError::new(format!(
                    "non-function {shown} of type {}",
                    o.type_name()
                ))),
            },
            other => Err(FuncError::new(format!(
                "non-function {shown} of type {}",
                other.type_name()
            ))),
        }
    }

    /// [`Self::validate_type`] for a value with its static type: a nil `interface{}` (a null or,
    /// with `missingkey=zero`, missing map entry) is a valid value of the wrong type for anything
    /// but `interface{}`, where an invalid value (a nil pipeline result) is reported as such.
    fn validate_slot(&self, s: Slot, t: ArgType) -> R<Value> {
        if s.iface && s.v.is_nil() && t != ArgType::Any {
            return Err(self.error(format!(
                "wrong type for value; expected {}; got interface {{}}",
                t.go_name()
            )));
        }
        self.validate_type(s.v, t)
    }

    fn validate_type(&self, v: Value, t: ArgType) -> R<Value> {
        let ok = match (&v, t) {
            (_, ArgType::Any) => true,
            (Value::Nil, ArgType::List | ArgType::Map | ArgType::Bytes) => true,
            (Value::Nil, _) => {
                return Err(self.error(format!("invalid value; expected {}", t.go_name())));
            }
            (Value::String(_), ArgType::String)
            | (Value::Int(_), ArgType::Int | ArgType::Int64)
            | (Value::Float(_), ArgType::Float64)
            | (Value::Bool(_), ArgType::Bool)
            | (Value::List(_), ArgType::List)
            | (Value::Map(_), ArgType::Map)
            | (Value::Bytes(_), ArgType::Bytes) => true,
            _ => false,
        };
        if ok {
            Ok(v)
        } else {
            Err(self.error(format!(
                "wrong type for value; expected {}; got {}",
                t.go_name(),
                v.type_name()
            )))
        }
    }

    fn eval_arg(&mut self, dot: &Slot, t: ArgType, n: &'n Arg) -> R<Value> {
        self.at(Cur::Arg(n));
        match n {
            Arg::Dot(_) => return self.validate_slot(dot.clone(), t),
            Arg::Nil(_) => {
                return if matches!(
                    t,
                    ArgType::Any | ArgType::List | ArgType::Map | ArgType::Bytes
                ) {
                    Ok(Value::Nil)
                } else {
                    Err(self.error(format!("cannot assign nil to {}", t.go_name())))
                };
            }
            Arg::Field { idents, .. } => {
                let v = self.eval_field_chain(
                    dot,
                    dot.clone(),
                    n,
                    idents,
                    std::slice::from_ref(n),
                    None,
                )?;
                return self.validate_slot(v, t);
            }
            Arg::Variable { .. } => {
                let v = self.eval_variable(dot, n, &[], None)?;
                return self.validate_type(v.v, t);
            }
            Arg::Pipe(p) => {
                let v = stacker::maybe_grow(RED_ZONE, STACK_GROWTH, || self.eval_pipeline(dot, p))?;
                return self.validate_type(v, t);
            }
            Arg::Ident { .. } => {
                let v = self.eval_function(dot, n, Cur::Arg(n), &[], None)?;
                return self.validate_type(v.v, t);
            }
            Arg::Chain { .. } => {
                let v = self.eval_chain(dot, n, &[], None)?;
                return self.validate_type(v.v, t);
            }
            _ => {}
        }
        match t {
            ArgType::Bool => match n {
                Arg::Bool(_, b) => Ok(Value::Bool(*b)),
                _ => Err(self.error(format!("expected bool; found {n}"))),
            },
            ArgType::Float64 => match n {
                Arg::Number(num) if num.is_float => Ok(Value::Float(num.float)),
                _ => Err(self.error(format!("expected float; found {n}"))),
            },
            ArgType::Int | ArgType::Int64 => match n {
                Arg::Number(num) if num.is_int => Ok(Value::Int(num.int)),
                _ => Err(self.error(format!("expected integer; found {n}"))),
            },
            ArgType::String => match n {
                Arg::String { literal, .. } => Ok(Value::String(literal.value.clone())),
                _ => Err(self.error(format!("expected string; found {n}"))),
            },
            ArgType::Any => match n {
                Arg::Bool(_, b) => Ok(Value::Bool(*b)),
                Arg::Number(num) => self.ideal_constant(num),
                Arg::String { literal, .. } => Ok(Value::String(literal.value.clone())),
                _ => Err(self.error(format!(
                    "can't handle assignment of {n} to empty interface argument"
                ))),
            },
            ArgType::List | ArgType::Map | ArgType::Bytes => {
                Err(self.error(format!("can't handle {n} for arg of type {}", t.go_name())))
            }
        }
    }
}

/// Writes a value the way Go's `printValue` does (`<no value>` for nil/missing).
fn print_value(out: &mut String, v: &Value) {
    match v {
        Value::Nil => out.push_str("<no value>"),
        Value::String(s) => out.push_str(s),
        Value::Int(i) => {
            use std::fmt::Write;
            let _ = write!(out, "{i}");
        }
        other => out.push_str(&gofmt::sprint_value(other)),
    }
}

/// The executor seen from a function's [`CallContext`].
struct Host<'h, 't> {
    sh: &'h mut Shared<'t>,
    template_name: &'h str,
}

impl ExecHost for Host<'_, '_> {
    fn include(&mut self, name: &str, data: Value) -> Result<Arc<str>, Error> {
        let Some(tree) = self.sh.lookup(name) else {
            return Err(Error::NoTemplate {
                name: name.to_string(),
                set: self.sh.set.name.clone(),
            });
        };
        // Templates that `tpl` defines may shadow names for a while: no reuse meanwhile.
        if !self.sh.overlays.is_empty() {
            return self.sh.render_nested(&tree, data);
        }
        if let Some(text) = self.sh.memo.get(&tree, &data) {
            return Ok(text);
        }
        let check = WriteCheck::start();
        let stateful_calls = self.sh.stateful_calls;
        let text = self.sh.render_nested(&tree, data.clone())?;
        if check.unchanged() && self.sh.stateful_calls == stateful_calls {
            self.sh.memo.put(&tree, data, check, text.clone());
        }
        Ok(text)
    }

    fn execute_text(&mut self, name: &str, text: &str, data: Value) -> Result<Arc<str>, Error> {
        let set = self.sh.set;
        let trees = match set.texts.get(name, text) {
            Some(trees) => trees,
            None => {
                let source: Arc<str> = Arc::from(text);
                let trees: ParsedText = parse::parse(name, &source, &set.delims, &set.funcs)?
                    .into_iter()
                    .map(Arc::new)
                    .collect();
                set.texts.insert(name, source, trees.clone());
                trees
            }
        };
        let Some(body) = trees.iter().find(|t| t.name == name).cloned() else {
            return Ok(Arc::from(""));
        };
        let overlay: Vec<Arc<Tree>> = trees
            .iter()
            .filter(|t| !(t.is_empty_tree() && self.sh.lookup(&t.name).is_some()))
            .cloned()
            .collect();
        self.sh.overlays.push(overlay);
        let r = self.sh.render_nested(&body, data);
        self.sh.overlays.pop();
        r
    }

    fn template_name(&self) -> &str {
        self.template_name
    }

    fn has_template(&self, name: &str) -> bool {
        self.sh.lookup(name).is_some()
    }

    fn missing_key(&self) -> MissingKey {
        self.sh.set.missing_key
    }

    fn user_state(&mut self) -> Option<&mut (dyn Any + Send)> {
        self.sh.user.as_deref_mut()
    }
}
