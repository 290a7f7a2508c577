//! The parser: Go's `text/template/parse` recursive descent over the lexer's tokens, with the
//! same three-token lookahead so that errors name the same token and line as Go.

mod names;

use std::sync::{Arc, Mutex};

pub(crate) use names::Names;

use crate::ast::{Action, Arg, Branch, Command, Node, Number, Pipe, TemplateCall, Text, Tree};
use crate::error::{Error, Location, ParseError};
use crate::func::FuncMap;
use crate::gofmt;
use crate::lex::{Item, ItemType, Lexer, MAX_INPUT};
use crate::strconv;

const MAX_STACK_DEPTH: usize = 10000;
const MAX_PIPELINE_CMDS: usize = 100000;
/// Stack kept free before recursing; more is allocated on the heap when less remains.
const RED_ZONE: usize = 128 * 1024;
const STACK_GROWTH: usize = 2 * 1024 * 1024;

/// Parses `text` (the file `name`) into its trees: the body under `name`, then each `define` and
/// `block`, in order of appearance.
pub(crate) fn parse(
    name: &str,
    text: &Arc<str>,
    delims: &(String, String),
    funcs: &FuncMap,
) -> Result<Vec<Tree>, Error> {
    parse_sharing(name, text, delims, funcs, &mut Reused::default())
}

/// What the parses of the files of one template set reuse: the names and constants they share
/// and the parser's list stacks (grown once rather than for every file).
#[derive(Default)]
pub(crate) struct Reused {
    names: Names,
    stacks: Stacks,
}

/// Nodes, commands and arguments of the lists being parsed, innermost last: each list is moved
/// out into an allocation of its exact size once complete, so that trees hold no spare capacity.
#[derive(Default)]
struct Stacks {
    nodes: Vec<Node>,
    commands: Vec<Command>,
    args: Vec<Arg>,
}

/// The [`Reused`] state of one template set, lent to one parse at a time: files parsed at the
/// same time on several threads never wait for each other (each thread ends up with its own).
#[derive(Default)]
pub(crate) struct ParsePool {
    free: Mutex<Vec<Reused>>,
}

impl ParsePool {
    /// Runs `f` with state of this pool (new state when all of it is lent out).
    pub(crate) fn with<T>(&self, f: impl FnOnce(&mut Reused) -> T) -> T {
        let taken = self.free.lock().unwrap_or_else(|e| e.into_inner()).pop();
        let mut reused = taken.unwrap_or_default();
        let r = f(&mut reused);
        self.free
            .lock()
            .unwrap_or_else(|e| e.into_inner())
            .push(reused);
        r
    }
}

/// [`parse`], sharing names, constants and buffers with the other files parsed with `reused`
/// (which must only ever be used with `funcs`).
pub(crate) fn parse_sharing(
    name: &str,
    text: &Arc<str>,
    delims: &(String, String),
    funcs: &FuncMap,
    reused: &mut Reused,
) -> Result<Vec<Tree>, Error> {
    // A failed parse leaves its partial lists behind.
    reused.stacks.nodes.clear();
    reused.stacks.commands.clear();
    reused.stacks.args.clear();
    if text.len() > MAX_INPUT {
        return Err(Error::Parse(ParseError {
            location: location(text, name, 0, 1),
            message: format!("template text longer than {MAX_INPUT} bytes"),
        }));
    }
    let parse_name: Arc<str> = Arc::from(name);
    let dollar: Arc<str> = Arc::from("$");
    let mut p = Parser {
        lex: Lexer::new(
            text,
            &delims.0,
            &delims.1,
            !funcs.contains("break"),
            !funcs.contains("continue"),
        ),
        token: [eof_item(), eof_item(), eof_item()],
        peek_count: 0,
        vars: vec![dollar.clone()],
        action_line: 0,
        range_depth: 0,
        stack_depth: 0,
        parse_name: parse_name.clone(),
        text: text.clone(),
        src: text,
        trees: Vec::new(),
        funcs,
        names: &mut reused.names,
        stacks: &mut reused.stacks,
        dollar,
        nest: 0,
        max_nest: 0,
    };
    let root = p.parse_top().map_err(|message| {
        let line = p.token[0].line();
        Error::Parse(ParseError {
            location: location(text, &parse_name, p.token[0].pos(), line),
            message,
        })
    })?;
    p.add(name.to_string(), root).map_err(|message| {
        Error::Parse(ParseError {
            location: location(text, &parse_name, p.token[0].pos(), p.token[0].line()),
            message,
        })
    })?;
    Ok(p.trees)
}

fn location(text: &str, parse_name: &str, pos: usize, line: usize) -> Location {
    let pos = pos.min(text.len());
    let line_start = text[..pos].rfind('\n').map_or(0, |i| i + 1);
    Location {
        parse_name: parse_name.to_string(),
        line,
        col: pos - line_start,
        offset: pos,
    }
}

fn eof_item() -> Item {
    Item::new(ItemType::Eof, 0, 0, 1)
}

type PResult<T> = Result<T, String>;

struct Parser<'a> {
    lex: Lexer<'a>,
    token: [Item; 3],
    peek_count: usize,
    vars: Vec<Arc<str>>,
    action_line: usize,
    range_depth: usize,
    stack_depth: usize,
    parse_name: Arc<str>,
    text: Arc<str>,
    /// The same text, borrowed for the lexer's lifetime.
    src: &'a str,
    trees: Vec<Tree>,
    funcs: &'a FuncMap,
    names: &'a mut Names,
    stacks: &'a mut Stacks,
    /// The variable `$`, in scope everywhere.
    dollar: Arc<str>,
    /// Current and deepest nesting of control structures and parentheses.
    nest: usize,
    max_nest: usize,
}

/// Nesting beyond which a tree is dropped iteratively.
const DEEP_NESTING: usize = 200;

/// What ends an item list.
enum End {
    End,
    Else,
}

impl<'a> Parser<'a> {
    fn next(&mut self) -> Item {
        if self.peek_count > 0 {
            self.peek_count -= 1;
        } else {
            self.token[0] = self.lex.next_item();
        }
        self.token[self.peek_count]
    }

    fn backup(&mut self) {
        self.peek_count += 1;
    }

    fn backup2(&mut self, t1: Item) {
        self.token[1] = t1;
        self.peek_count = 2;
    }

    fn backup3(&mut self, t2: Item, t1: Item) {
        self.token[1] = t1;
        self.token[2] = t2;
        self.peek_count = 3;
    }

    fn peek(&mut self) -> Item {
        if self.peek_count > 0 {
            return self.token[self.peek_count - 1];
        }
        self.peek_count = 1;
        self.token[0] = self.lex.next_item();
        self.token[0]
    }

    fn next_non_space(&mut self) -> Item {
        if self.peek_count == 0 {
            self.lex.skip_spaces_in_action();
        }
        loop {
            let t = self.next();
            if t.typ != ItemType::Space {
                return t;
            }
        }
    }

    fn peek_non_space(&mut self) -> Item {
        let t = self.next_non_space();
        self.backup();
        t
    }

    fn expect(&mut self, expected: ItemType, context: &str) -> PResult<Item> {
        let t = self.next_non_space();
        if t.typ != expected {
            return Err(self.unexpected(&t, context));
        }
        Ok(t)
    }

    fn unexpected(&self, token: &Item, context: &str) -> String {
        if token.typ == ItemType::Error {
            let mut extra = String::new();
            if self.action_line != 0 && self.action_line != token.line() {
                extra = format!(
                    " in action started at {}:{}",
                    self.parse_name, self.action_line
                );
                if token.val(self.src).ends_with(" action") {
                    extra = extra[" in action".len()..].to_string();
                }
            }
            return format!("{}{extra}", self.lex.error_message());
        }
        format!(
            "unexpected {} in {context}",
            token.describe(self.src, self.lex.error_message())
        )
    }

    /// Go's `Tree.add`: a second non-empty definition of a name in one parse is an error.
    fn add(&mut self, name: String, root: Vec<Node>) -> PResult<()> {
        let tree = Tree {
            name,
            parse_name: self.parse_name.clone(),
            text: self.text.clone(),
            root,
            deep: self.max_nest > DEEP_NESTING,
        };
        if let Some(i) = self.trees.iter().position(|t| t.name == tree.name) {
            if self.trees[i].is_empty_tree() {
                self.trees[i] = tree;
                return Ok(());
            }
            if !tree.is_empty_tree() {
                return Err(format!(
                    "template: multiple definition of template {}",
                    gofmt::quote(&tree.name)
                ));
            }
            return Ok(());
        }
        self.trees.push(tree);
        Ok(())
    }

    fn parse_top(&mut self) -> PResult<Vec<Node>> {
        let mark = self.stacks.nodes.len();
        while self.peek().typ != ItemType::Eof {
            if self.peek().typ == ItemType::LeftDelim {
                let delim = self.next();
                if self.next_non_space().typ == ItemType::Define {
                    self.parse_definition()?;
                    continue;
                }
                self.backup2(delim);
            }
            match self.text_or_action()? {
                Parsed::Node(n) => self.stacks.nodes.push(n),
                Parsed::End => return Err("unexpected {{end}}".into()),
                Parsed::Else => return Err("unexpected {{else}}".into()),
            }
        }
        Ok(split_exact(&mut self.stacks.nodes, mark))
    }

    fn with_fresh_scope<T>(&mut self, f: impl FnOnce(&mut Self) -> PResult<T>) -> PResult<T> {
        let vars = std::mem::replace(&mut self.vars, vec![self.dollar.clone()]);
        let depth = std::mem::replace(&mut self.range_depth, 0);
        let r = f(self);
        self.vars = vars;
        self.range_depth = depth;
        r
    }

    fn parse_definition(&mut self) -> PResult<()> {
        const CONTEXT: &str = "define clause";
        self.with_fresh_scope(|p| {
            let tok = p.next_non_space();
            if tok.typ != ItemType::String && tok.typ != ItemType::RawString {
                return Err(p.unexpected(&tok, CONTEXT));
            }
            let name = strconv::unquote(tok.val(p.src)).map_err(|e| e.to_string())?;
            p.expect(ItemType::RightDelim, CONTEXT)?;
            let (list, end) = p.item_list()?;
            if let End::Else = end {
                return Err(format!("unexpected {{{{else}}}} in {CONTEXT}"));
            }
            p.add(name, list)
        })
    }

    /// Nodes up to `{{end}}` or `{{else}}`.
    fn item_list(&mut self) -> PResult<(Vec<Node>, End)> {
        let mark = self.stacks.nodes.len();
        while self.peek_non_space().typ != ItemType::Eof {
            let end = match self.text_or_action()? {
                Parsed::Node(n) => {
                    self.stacks.nodes.push(n);
                    continue;
                }
                Parsed::End => End::End,
                Parsed::Else => End::Else,
            };
            return Ok((split_exact(&mut self.stacks.nodes, mark), end));
        }
        Err("unexpected EOF".into())
    }

    fn text_or_action(&mut self) -> PResult<Parsed> {
        let token = self.next_non_space();
        match token.typ {
            ItemType::Text => Ok(Parsed::Node(Node::Text(Text::new(
                token.pos(),
                token.len(),
            )))),
            ItemType::LeftDelim => {
                self.action_line = token.line();
                let r = self.action();
                self.action_line = 0;
                r
            }
            _ => Err(self.unexpected(&token, "input")),
        }
    }

    fn action(&mut self) -> PResult<Parsed> {
        let token = self.next_non_space();
        match token.typ {
            ItemType::Block => return self.block_control().map(Parsed::Node),
            ItemType::Break => return self.break_control(token.pos(), true).map(Parsed::Node),
            ItemType::Continue => return self.break_control(token.pos(), false).map(Parsed::Node),
            ItemType::Else => return self.else_control(),
            ItemType::End => {
                self.expect(ItemType::RightDelim, "end")?;
                return Ok(Parsed::End);
            }
            ItemType::If => return self.control("if").map(Parsed::Node),
            ItemType::Range => return self.control("range").map(Parsed::Node),
            ItemType::Template => return self.template_control().map(Parsed::Node),
            ItemType::With => return self.control("with").map(Parsed::Node),
            _ => {}
        }
        self.backup();
        let pipe = self.pipeline("command", ItemType::RightDelim)?;
        Ok(Parsed::Node(Node::Action(Box::new(Action { pipe }))))
    }

    fn break_control(&mut self, pos: usize, is_break: bool) -> PResult<Node> {
        let word = if is_break {
            "{{break}}"
        } else {
            "{{continue}}"
        };
        let token = self.next_non_space();
        if token.typ != ItemType::RightDelim {
            return Err(self.unexpected(&token, word));
        }
        if self.range_depth == 0 {
            return Err(format!("{word} outside {{{{range}}}}"));
        }
        Ok(if is_break {
            Node::Break(pos)
        } else {
            Node::Continue(pos)
        })
    }

    fn else_control(&mut self) -> PResult<Parsed> {
        let peek = self.peek_non_space();
        if peek.typ == ItemType::If || peek.typ == ItemType::With {
            return Ok(Parsed::Else);
        }
        self.expect(ItemType::RightDelim, "else")?;
        Ok(Parsed::Else)
    }

    fn pipeline(&mut self, context: &str, end: ItemType) -> PResult<Pipe> {
        let pos = arg_pos(self.peek_non_space().pos());
        let mut is_assign = false;
        let mut decl = Vec::new();
        'decls: loop {
            let v = self.peek_non_space();
            if v.typ != ItemType::Variable {
                break;
            }
            self.next();
            let token_after = self.peek();
            let next = self.peek_non_space();
            if next.typ == ItemType::Assign || next.typ == ItemType::Declare {
                is_assign = next.typ == ItemType::Assign;
                self.next_non_space();
                let name = self.names.name(v.val(self.src));
                decl.push((v.pos(), name.clone()));
                self.vars.push(name);
            } else if next.typ == ItemType::Char && next.val(self.src) == "," {
                self.next_non_space();
                let name = self.names.name(v.val(self.src));
                decl.push((v.pos(), name.clone()));
                self.vars.push(name);
                if context == "range" && decl.len() < 2 {
                    match self.peek_non_space().typ {
                        ItemType::Variable | ItemType::RightDelim | ItemType::RightParen => {
                            continue 'decls;
                        }
                        _ => return Err("range can only initialize variables".into()),
                    }
                }
                return Err(format!("too many declarations in {context}"));
            } else if token_after.typ == ItemType::Space {
                self.backup3(v, token_after);
            } else {
                self.backup2(v);
            }
            break;
        }
        let decl = decl.into_boxed_slice();
        let mark = self.stacks.commands.len();
        loop {
            let token = self.next_non_space();
            match token.typ {
                t if t == end => {
                    let pipe = Pipe {
                        pos,
                        is_assign,
                        decl,
                        cmds: split_exact(&mut self.stacks.commands, mark).into_boxed_slice(),
                    };
                    self.check_pipeline(&pipe, context)?;
                    return Ok(pipe);
                }
                ItemType::Bool
                | ItemType::CharConstant
                | ItemType::Complex
                | ItemType::Dot
                | ItemType::Field
                | ItemType::Identifier
                | ItemType::Number
                | ItemType::Nil
                | ItemType::RawString
                | ItemType::String
                | ItemType::Variable
                | ItemType::LeftParen => {
                    self.backup();
                    let c = self.command()?;
                    self.stacks.commands.push(c);
                    if self.stacks.commands.len() - mark > MAX_PIPELINE_CMDS {
                        return Err("pipeline too long".into());
                    }
                }
                _ => return Err(self.unexpected(&token, context)),
            }
        }
    }

    fn check_pipeline(&self, pipe: &Pipe, context: &str) -> PResult<()> {
        if pipe.cmds.is_empty() {
            return Err(format!("missing value for {context}"));
        }
        for (i, c) in pipe.cmds.iter().enumerate().skip(1) {
            if matches!(
                c.args[0],
                Arg::Bool(..) | Arg::Dot(_) | Arg::Nil(_) | Arg::Number(_) | Arg::String { .. }
            ) {
                return Err(format!(
                    "non executable command in pipeline stage {}",
                    i + 1
                ));
            }
        }
        Ok(())
    }

    fn control(&mut self, context: &str) -> PResult<Node> {
        let mark = self.vars.len();
        self.nest += 1;
        self.max_nest = self.max_nest.max(self.nest);
        let r = stacker::maybe_grow(RED_ZONE, STACK_GROWTH, || self.control_inner(context));
        self.nest -= 1;
        self.vars.truncate(mark);
        let b = Box::new(r?);
        Ok(match context {
            "if" => Node::If(b),
            "with" => Node::With(b),
            _ => Node::Range(b),
        })
    }

    fn control_inner(&mut self, context: &str) -> PResult<Branch> {
        let pipe = self.pipeline(context, ItemType::RightDelim)?;
        if context == "range" {
            self.range_depth += 1;
        }
        let r = self.item_list();
        if context == "range" {
            self.range_depth -= 1;
        }
        let (list, next) = r?;
        let mut else_list = None;
        if let End::Else = next {
            if context == "if" && self.peek().typ == ItemType::If {
                self.next();
                else_list = Some(Box::new([self.control("if")?]) as Box<[Node]>);
            } else if context == "with" && self.peek().typ == ItemType::With {
                self.next();
                else_list = Some(Box::new([self.control("with")?]) as Box<[Node]>);
            } else {
                let (l, next) = self.item_list()?;
                if let End::Else = next {
                    return Err("expected end; found {{else}}".into());
                }
                else_list = Some(l.into_boxed_slice());
            }
        }
        Ok(Branch {
            pos: pipe.pos as usize,
            pipe,
            list: list.into_boxed_slice(),
            else_list,
        })
    }

    fn block_control(&mut self) -> PResult<Node> {
        const CONTEXT: &str = "block clause";
        let token = self.next_non_space();
        let name = self.template_name(&token, CONTEXT)?;
        let pipe = self.pipeline(CONTEXT, ItemType::RightDelim)?;
        let (list, end) = self.with_fresh_scope(|p| p.item_list())?;
        if let End::Else = end {
            return Err(format!("unexpected {{{{else}}}} in {CONTEXT}"));
        }
        self.add(name.clone(), list)?;
        Ok(Node::Template(Box::new(TemplateCall {
            pos: token.pos(),
            name,
            pipe: Some(pipe),
        })))
    }

    fn template_control(&mut self) -> PResult<Node> {
        const CONTEXT: &str = "template clause";
        let token = self.next_non_space();
        let name = self.template_name(&token, CONTEXT)?;
        let mut pipe = None;
        if self.next_non_space().typ != ItemType::RightDelim {
            self.backup();
            pipe = Some(self.pipeline(CONTEXT, ItemType::RightDelim)?);
        }
        Ok(Node::Template(Box::new(TemplateCall {
            pos: token.pos(),
            name,
            pipe,
        })))
    }

    fn template_name(&self, token: &Item, context: &str) -> PResult<String> {
        match token.typ {
            ItemType::String | ItemType::RawString => {
                strconv::unquote(token.val(self.src)).map_err(|e| e.to_string())
            }
            _ => Err(self.unexpected(token, context)),
        }
    }

    fn command(&mut self) -> PResult<Command> {
        let pos = self.peek_non_space().pos();
        let mark = self.stacks.args.len();
        loop {
            self.peek_non_space();
            self.operand()?;
            // Spaces separate operands.
            if self.peek_count == 0 && self.lex.skip_spaces_in_action() {
                continue;
            }
            let token = self.next();
            match token.typ {
                ItemType::Space => continue,
                ItemType::RightDelim | ItemType::RightParen => self.backup(),
                ItemType::Pipe => {}
                _ => return Err(self.unexpected(&token, "operand")),
            }
            break;
        }
        if self.stacks.args.len() == mark {
            return Err("empty command".into());
        }
        Ok(Command {
            pos,
            args: split_exact(&mut self.stacks.args, mark).into_boxed_slice(),
        })
    }

    /// An operand, pushed onto the argument stack; nothing when no term starts here.
    fn operand(&mut self) -> PResult<()> {
        // Fields after a field or variable are already part of it (see `chain`).
        if !self.term()? || self.peek().typ != ItemType::Field {
            return Ok(());
        }
        let pos = self.peek().pos();
        let mut fields = Vec::new();
        while self.peek().typ == ItemType::Field {
            let t = self.next();
            fields.push(self.names.name(&t.val(self.src)[1..]));
        }
        let Some(node) = self.stacks.args.pop() else {
            return Ok(());
        };
        let chain = match node {
            Arg::Bool(..) | Arg::String { .. } | Arg::Number(_) | Arg::Nil(_) | Arg::Dot(_) => {
                return Err(format!(
                    "unexpected . after term {}",
                    gofmt::quote(&node.to_string())
                ));
            }
            other => Arg::Chain {
                pos: arg_pos(pos),
                node: Box::new(other),
                fields: fields.into_boxed_slice(),
            },
        };
        self.stacks.args.push(chain);
        Ok(())
    }

    /// A field or variable token and the field tokens right after it, as one node (Go's
    /// parser builds a chain and folds it back into the field or variable).
    fn chain(&mut self, first: Item) -> Arg {
        let mut pos = first.pos();
        let mut end = first.pos() + first.len();
        if self.peek_count == 0
            && let Some(fields_end) = self.lex.skip_ascii_fields()
        {
            // Go positions the whole at its second part, which follows the first.
            pos = end;
            end = fields_end;
        }
        if self.peek().typ == ItemType::Field {
            if pos == first.pos() {
                // Go positions the whole at its second part.
                pos = self.peek().pos();
            }
            while self.peek().typ == ItemType::Field {
                let t = self.next();
                end = t.pos() + t.len();
            }
        }
        let variable = first.typ == ItemType::Variable;
        let src = self.src;
        let idents = self.names.chain(&src[first.pos()..end], variable);
        if variable {
            Arg::Variable {
                pos: arg_pos(pos),
                idents,
            }
        } else {
            Arg::Field {
                pos: arg_pos(pos),
                idents,
            }
        }
    }

    /// A term, pushed onto the argument stack; false (and nothing consumed) when none starts here.
    fn term(&mut self) -> PResult<bool> {
        let token = self.next_non_space();
        let pos = token.pos();
        let arg = match token.typ {
            ItemType::Identifier => {
                let (name, func) = self.names.function(self.funcs, token.val(self.src))?;
                Arg::Ident {
                    pos: arg_pos(pos),
                    name,
                    func,
                }
            }
            ItemType::Dot => Arg::Dot(arg_pos(pos)),
            ItemType::Nil => Arg::Nil(arg_pos(pos)),
            ItemType::Variable => {
                // A variable token never holds a `.`: it ends the token.
                let name = token.val(self.src);
                if !self.vars.iter().any(|v| **v == *name) {
                    return Err(format!("undefined variable {}", gofmt::quote(name)));
                }
                self.chain(token)
            }
            ItemType::Field => self.chain(token),
            ItemType::Bool => Arg::Bool(arg_pos(pos), token.val(self.src) == "true"),
            ItemType::CharConstant | ItemType::Complex | ItemType::Number => {
                let text = token.val(self.src);
                let shared = self.names.name(text);
                Arg::Number(Box::new(parse_number(pos, text, shared, token.typ)?))
            }
            ItemType::LeftParen => {
                if self.stack_depth >= MAX_STACK_DEPTH {
                    return Err("max expression depth exceeded".into());
                }
                self.stack_depth += 1;
                self.max_nest = self.max_nest.max(self.nest + self.stack_depth);
                let r = stacker::maybe_grow(RED_ZONE, STACK_GROWTH, || {
                    self.pipeline("parenthesized pipeline", ItemType::RightParen)
                });
                self.stack_depth -= 1;
                Arg::Pipe(Box::new(r?))
            }
            ItemType::String | ItemType::RawString => {
                let literal = self.names.string(token.val(self.src))?;
                Arg::String {
                    pos: arg_pos(pos),
                    literal,
                }
            }
            _ => {
                self.backup();
                return Ok(false);
            }
        };
        self.stacks.args.push(arg);
        Ok(true)
    }
}

/// An argument's position: the parser takes at most `u32::MAX` bytes of source.
fn arg_pos(pos: usize) -> u32 {
    u32::try_from(pos).unwrap_or(u32::MAX)
}

/// The elements of `stack` from `mark` on, moved into a vector of their exact size.
fn split_exact<T>(stack: &mut Vec<T>, mark: usize) -> Vec<T> {
    if mark == 0 {
        let mut list = Vec::with_capacity(stack.len());
        list.append(stack);
        list
    } else {
        stack.split_off(mark)
    }
}

enum Parsed {
    Node(Node),
    End,
    Else,
}

/// Go's `newNumber`: every valid reading of a numeric literal.
/// `shared` is `text`, allocated.
fn parse_number(pos: usize, text: &str, shared: Arc<str>, typ: ItemType) -> PResult<Number> {
    if typ == ItemType::Number
        && let Some(v) = small_decimal(text)
    {
        return Ok(Number {
            pos,
            text: shared,
            is_int: true,
            is_uint: true,
            is_float: true,
            int: v,
            float: v as f64,
        });
    }
    parse_number_general(pos, text, shared, typ)
}

/// The value of a plain decimal literal of at most 18 digits (no sign, base prefix, leading zero
/// or `_`): every reading of it is that integer, which [`parse_number`] takes without parsing it
/// three ways.
fn small_decimal(text: &str) -> Option<i64> {
    let b = text.as_bytes();
    if b.is_empty() || b.len() > 18 || (b[0] == b'0' && b.len() > 1) {
        return None;
    }
    b.iter().try_fold(0i64, |v, &d| {
        d.is_ascii_digit().then(|| v * 10 + i64::from(d - b'0'))
    })
}

fn parse_number_general(
    pos: usize,
    text: &str,
    shared: Arc<str>,
    typ: ItemType,
) -> PResult<Number> {
    let mut n = Number {
        pos,
        text: shared,
        is_int: false,
        is_uint: false,
        is_float: false,
        int: 0,
        float: 0.0,
    };
    if typ == ItemType::CharConstant {
        let (c, tail) = strconv::unquote_char(&text[1..], '\'').map_err(|e| e.to_string())?;
        if tail != "'" {
            return Err(format!("malformed character constant: {text}"));
        }
        n.int = i64::from(u32::from(c));
        n.is_int = true;
        n.is_uint = true;
        n.float = n.int as f64;
        n.is_float = true;
        return Ok(n);
    }
    if typ == ItemType::Complex || text.ends_with('i') {
        return Err(format!("complex constants are not supported: {text}"));
    }
    let u = strconv::parse_uint(text);
    if let Some(u) = u {
        n.is_uint = true;
        n.float = u as f64;
    }
    if let Some(i) = strconv::parse_int(text) {
        n.is_int = true;
        n.int = i;
        if i == 0 {
            n.is_uint = true;
        }
    }
    if n.is_int {
        n.is_float = true;
        n.float = n.int as f64;
    } else if n.is_uint {
        n.is_float = true;
    } else if let Some(f) = strconv::parse_float(text) {
        if !text.contains(['.', 'e', 'E', 'p', 'P']) {
            return Err(format!("integer overflow: {}", gofmt::quote(text)));
        }
        n.is_float = true;
        n.float = f;
        if f.fract() == 0.0 && (-9.223_372_036_854_776e18..9.223_372_036_854_776e18).contains(&f) {
            n.is_int = true;
            n.int = f as i64;
        }
        if f.fract() == 0.0 && (0.0..1.844_674_407_370_955_2e19).contains(&f) {
            n.is_uint = true;
        }
    }
    if !n.is_int && !n.is_uint && !n.is_float {
        return Err(format!("illegal number syntax: {}", gofmt::quote(text)));
    }
    Ok(n)
}

#[cfg(test)]
mod corpus_trees;

#[cfg(test)]
mod tests {
    use std::sync::Arc;

    use crate::ast::{Arg, Node};
    use crate::func::FuncMap;

    /// The first argument of each action of `text`'s body.
    fn first_args(text: &str) -> Vec<Arg> {
        let text: Arc<str> = text.into();
        let mut trees =
            super::parse("t", &text, &("{{".into(), "}}".into()), &FuncMap::new()).expect("parses");
        std::mem::take(&mut trees[0].root)
            .into_iter()
            .filter_map(|n| match n {
                Node::Action(a) => {
                    let cmd = a.pipe.cmds.into_vec().swap_remove(0);
                    Some(cmd.args.into_vec().swap_remove(0))
                }
                _ => None,
            })
            .collect()
    }

    proptest::proptest! {
        /// Small decimals read as the general number parser reads them.
        #[test]
        fn small_decimals_read_like_any_number(
            text in "[0-9_+.xe-]{1,20}|[1-9][0-9]{0,19}|0[0-9]{0,3}",
        ) {
            use crate::lex::ItemType;
            let fast = super::parse_number(3, &text, text.as_str().into(), ItemType::Number);
            let general =
                super::parse_number_general(3, &text, text.as_str().into(), ItemType::Number);
            proptest::prop_assert_eq!(format!("{fast:?}"), format!("{general:?}"));
        }
    }

    /// Parses `text` with and without the lexer's skipping fast paths: the same trees, or the
    /// same error at the same place.
    fn assert_fast_paths_agree(text: &str, left: &str, right: &str) {
        let text: Arc<str> = text.into();
        let delims = (left.to_string(), right.to_string());
        let funcs = FuncMap::new();
        let fast = format!("{:?}", super::parse("t", &text, &delims, &funcs));
        let general = crate::lex::without_fast_paths(|| {
            format!("{:?}", super::parse("t", &text, &delims, &funcs))
        });
        assert_eq!(fast, general, "{text:?} with delimiters {delims:?}");
    }

    /// Pieces whose combinations reach the fast paths' edges: spaces before trim markers and
    /// delimiters, fields with non-ASCII letters, digits and bad characters, variables, chains
    /// on parentheses.
    const PIECES: &[&str] = &[
        "{{", "}}", "{{- ", " -}}", "-}}", "[[", "]]", " ", "  ", "\n", "\t", "\r", ".", ".a",
        ".B", "._1", ".é", ".1", "a", "é", "1", "$", "$x", ":=", "=", ",", "|", "(", ")", "#", "-",
        "\"s\"", "`r`", "len", "print", "if", "else", "end", "range", "with", "define", "block",
        "template", "nil", "true", "break", "/*", "*/", "'c'",
    ];

    proptest::proptest! {
        #![proptest_config(proptest::prelude::ProptestConfig::with_cases(4000))]

        #[test]
        fn fast_paths_parse_like_the_general_path(
            pieces in proptest::collection::vec(proptest::sample::select(PIECES), 0..24),
            delims in proptest::sample::select(
                &[("{{", "}}"), ("[[", "]]"), ("{{", " }}"), ("{{", "a}}")][..],
            ),
        ) {
            assert_fast_paths_agree(&pieces.concat(), delims.0, delims.1);
        }
    }

    /// Real chart templates (the conformance corpus, when present) parse alike with and without
    /// the fast paths.
    #[test]
    fn corpus_parses_alike_without_fast_paths() {
        let mut files = 0;
        for path in crate::corpus::template_files() {
            if let Ok(text) = std::fs::read_to_string(&path) {
                assert_fast_paths_agree(&text, "{{", "}}");
                files += 1;
            }
        }
        if files == 0 {
            eprintln!("corpus_parses_alike_without_fast_paths: no chart templates found; skipped");
        }
    }

    /// Parsing with names shared across files gives the trees (and errors) a fresh parse gives,
    /// including after a shared table has seen the same names in other files.
    #[test]
    fn shared_names_parse_like_fresh_ones() {
        let delims = ("{{".to_string(), "}}".to_string());
        let texts = [
            "{{ .a.b }}{{ $x := \"s\" }}{{ $x }}{{ len .a }}{{ 1.5 }}{{ 'c' }}{{ `r` }}",
            "{{ .a.b.c }}{{ .a.b }}{{ \"s\" | printf \"%s\" }}{{ define \"d\" }}{{ .a }}{{ end }}",
            "{{ $x.a }}",
            "{{ nosuch 1 }}",
            "{{ \"bad\\q\" }}",
            "{{ len .a }}{{ index .a.b 1 }}{{ (.).a.b }}{{ $y := .a.b }}{{ $y.c }}",
        ];
        let funcs = FuncMap::new();
        let mut shared = super::Reused::default();
        for _ in 0..2 {
            for text in texts {
                let text: Arc<str> = text.into();
                let fresh = super::parse("t", &text, &delims, &funcs);
                let sharing = super::parse_sharing("t", &text, &delims, &funcs, &mut shared);
                assert_eq!(format!("{fresh:?}"), format!("{sharing:?}"), "{text}");
            }
        }
    }

    #[test]
    fn chains_are_positioned_like_go_and_shared_within_a_file() {
        let args =
            first_args("{{ .a }}{{ .a.b.c }}{{ $x := 1 }}{{ $x.y }}{{ .a.b.c }}{{ (.).a.b }}");
        let [single, chain, _, var, again, paren] = &args[..] else {
            panic!("{args:?}")
        };
        // Go places a chained field or variable at its second part.
        assert!(matches!(single, Arg::Field { pos: 3, idents } if **idents == [Arc::from("a")]));
        let Arg::Field { pos: 13, idents } = chain else {
            panic!("{chain:?}")
        };
        assert_eq!(**idents, [Arc::from("a"), "b".into(), "c".into()]);
        assert!(
            matches!(var, Arg::Variable { pos: 38, idents } if **idents == [Arc::from("$x"), "y".into()])
        );
        let Arg::Field { idents: shared, .. } = again else {
            panic!("{again:?}")
        };
        assert!(Arc::ptr_eq(idents, shared));
        assert!(matches!(paren, Arg::Chain { pos: 61, fields, .. } if fields.len() == 2));
    }
}
