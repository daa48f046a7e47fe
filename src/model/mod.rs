//! The model of a network: ranges, index names, families, definitions,
//! notation, assumptions and queries, checked and lowered into the
//! expression store.
//!
//! Invariant: every reference in the store has its family's arity, every
//! index sits in a position of its own range, and a definition's free
//! indices are among its left-hand indices. Later stages rely on this and
//! never report a name or range error themselves.

use rustc_hash::{FxHashMap as HashMap, FxHashSet as HashSet};

mod lower;
pub mod notation;

use crate::diagnostic::{Diagnostic, Source, Span, closest};
use crate::expr::{Builtin, ExprId, Extremum, FamilyId, IndexVar, Node, RangeId, Store};
use crate::syntax::ast::{self, Declared, Ident, Statement};
use lower::Scope;

pub use crate::syntax::ast::LeafKind;

/// Words the language keeps for itself.
pub const KEYWORDS: [&str; 14] = [
    "range",
    "index",
    "in",
    "input",
    "target",
    "param",
    "const",
    "function",
    "assume",
    "latex",
    "kronecker",
    "delta",
    "derive",
    "sum",
];

/// The name of the constant π, which a file may still declare for a
/// quantity of its own.
pub const PI_NAME: &str = "pi";

/// What a family is.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Hash)]
pub enum FamilyKind {
    /// A leaf declared with `input`, `target`, `param` or `const`.
    Leaf(LeafKind),
    /// A family defined by an expression.
    Defined,
}

/// A family of quantities: `w1[j,i]`, `a[j]`, `E`.
#[derive(Clone, Debug)]
pub struct Family {
    /// Its name in the file.
    pub name: String,
    /// Leaf or defined.
    pub kind: FamilyKind,
    /// The range of each index position.
    pub ranges: Vec<RangeId>,
    /// The index names of its declaration or left-hand side, one a position.
    pub slots: Vec<IndexVar>,
    /// The defining expression, in terms of `slots`, for defined families.
    pub definition: Option<ExprId>,
    /// Where it is declared or defined.
    pub span: Span,
    /// Its `latex` notation, if the file gives one.
    pub latex: Option<String>,
    /// Its `delta` notation, if the file gives one.
    pub delta_latex: Option<String>,
}

/// A range of index values.
#[derive(Clone, Debug)]
pub struct RangeInfo {
    /// Its name (for an index declared without `in`, the index's name).
    pub name: String,
    /// Its size, when the file gives one.
    pub size: Option<u64>,
    /// Where the file gives the size.
    pub size_span: Option<Span>,
}

/// A fact the simplifier may use: `lhs = rhs`.
#[derive(Clone, Debug)]
pub struct Assumption {
    /// The left side.
    pub lhs: ExprId,
    /// The right side.
    pub rhs: ExprId,
    /// Where it is written.
    pub span: Span,
}

/// A resolved derivative query: d numerator[...] / d denominator[...].
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct Query {
    /// What is differentiated.
    pub numerator: FamilyId,
    /// Its index variables.
    pub numerator_indices: Vec<IndexVar>,
    /// With respect to what.
    pub denominator: FamilyId,
    /// Its index variables.
    pub denominator_indices: Vec<IndexVar>,
    /// The query as written.
    pub text: String,
}

impl Query {
    /// The derivative of a scalar `objective` with respect to `family` at its
    /// own index names: the query whose result is the family's delta.
    pub fn delta(model: &Model, objective: FamilyId, family: FamilyId) -> Query {
        let slots = model.family(family).slots.clone();
        let names: Vec<String> = slots
            .iter()
            .map(|v| model.store.var(*v).name.clone())
            .collect();
        let wrt = if names.is_empty() {
            model.family(family).name.clone()
        } else {
            format!("{}[{}]", model.family(family).name, names.join(","))
        };
        Query {
            numerator: objective,
            numerator_indices: Vec::new(),
            denominator: family,
            denominator_indices: slots,
            text: format!("d{}/d{wrt}", model.family(objective).name),
        }
    }

    /// The free index variables of the result: the numerator's and the
    /// denominator's, each once, sorted.
    pub fn free_indices(&self) -> Vec<IndexVar> {
        let mut free: Vec<IndexVar> = self
            .numerator_indices
            .iter()
            .chain(&self.denominator_indices)
            .copied()
            .collect();
        free.sort_unstable();
        free.dedup();
        free
    }
}

/// A network, checked and lowered.
pub struct Model {
    /// The source it came from.
    pub source: Source,
    /// Every expression of the model and of what is derived from it.
    pub store: Store,
    /// The ranges.
    pub ranges: Vec<RangeInfo>,
    /// The families in order of declaration.
    pub families: Vec<Family>,
    /// The opaque functions' names.
    pub functions: Vec<String>,
    /// Declared index names.
    pub indices: HashMap<String, IndexVar>,
    /// Declared index names in order of declaration.
    pub index_order: Vec<IndexVar>,
    /// Facts from `assume` lines.
    pub assumptions: Vec<Assumption>,
    /// The `derive` lines.
    pub queries: Vec<Query>,
    /// Families whose `delta` symbol another family over the same ranges
    /// shares; their deltas are printed with the family's name as well.
    pub shared_delta_symbols: HashSet<FamilyId>,
    /// The symbol of the Kronecker delta in LaTeX: the `kronecker` line's,
    /// else `\delta`, or `I` when a `delta` line uses `\delta`, so that
    /// the two never look alike.
    pub kronecker_latex: String,
    family_names: HashMap<String, FamilyId>,
    claimed: HashMap<String, (Span, &'static str)>,
}

impl Model {
    /// Checks and lowers a parsed file.
    pub fn lower(source: Source, file: &ast::File) -> Result<Model, Diagnostic> {
        let mut model = Model {
            source,
            store: Store::new(),
            ranges: Vec::new(),
            families: Vec::new(),
            functions: Vec::new(),
            indices: HashMap::default(),
            index_order: Vec::new(),
            assumptions: Vec::new(),
            queries: Vec::new(),
            shared_delta_symbols: HashSet::default(),
            kronecker_latex: String::new(),
            family_names: HashMap::default(),
            claimed: HashMap::default(),
        };
        model.declare(file)?;
        model.define(file)?;
        model.shared_delta_symbols = model.find_shared_delta_symbols();
        Ok(model)
    }

    /// The families whose `delta` symbol another family over the same
    /// ranges shares.
    fn find_shared_delta_symbols(&self) -> HashSet<FamilyId> {
        let mut groups: HashMap<(&str, &[RangeId]), Vec<FamilyId>> = HashMap::default();
        for family in self.family_ids() {
            let info = self.family(family);
            if let Some(symbol) = &info.delta_latex {
                groups
                    .entry((symbol.as_str(), info.ranges.as_slice()))
                    .or_default()
                    .push(family);
            }
        }
        groups
            .into_values()
            .filter(|g| g.len() > 1)
            .flatten()
            .collect()
    }

    /// A model of scalar inputs named in one expression, for `chainrule diff`:
    /// every name that is not a function becomes an input.
    pub fn for_expression(
        source: Source,
        expr: &ast::Expr,
        declared_functions: &[String],
    ) -> Result<(Model, ExprId), Diagnostic> {
        let mut file = ast::File::default();
        let mut names = Vec::new();
        let mut functions = Vec::new();
        collect_names(expr, &mut names, &mut functions);
        let mut seen = HashSet::default();
        for name in names {
            if seen.insert(name.text.clone()) {
                file.statements.push(Statement::Leaf {
                    kind: LeafKind::Input,
                    families: vec![Declared {
                        name,
                        indices: Vec::new(),
                    }],
                });
            }
        }
        // A name that is no built-in is a function of the user's only when
        // declared: otherwise it is most likely a built-in misspelt.
        let mut seen_functions = HashSet::default();
        let mut opaque = Vec::new();
        for function in functions {
            if Builtin::from_name(&function.text).is_some()
                || Extremum::from_name(&function.text).is_some()
                || !seen_functions.insert(function.text.clone())
            {
                continue;
            }
            if !declared_functions.contains(&function.text) {
                let known = Builtin::ALL
                    .iter()
                    .map(|b| b.name())
                    .chain(Extremum::ALL.iter().map(|e| e.name()));
                let error = source.error(
                    function.span,
                    format!("unknown function `{}`", function.text),
                );
                let declare = format!(
                    "declare a function of your own with `--function {}`",
                    function.text
                );
                return Err(match closest(&function.text, known) {
                    Some(near) => {
                        error.with_help(format!("did you mean `{near}`? Otherwise {declare}"))
                    }
                    None => error.with_help(declare),
                });
            }
            opaque.push(function);
        }
        let functions = opaque;
        if !functions.is_empty() {
            file.statements
                .push(Statement::Function { names: functions });
        }
        let mut model = Model::lower(source, &file)?;
        let lowered = model.lower_expr(expr, &mut Scope::default())?;
        if let Some(var) = model.store.free_vars(lowered).first() {
            let name = model.store.var(*var).name.clone();
            return Err(Diagnostic::unlocated(format!(
                "index `{name}` is free in the expression"
            )));
        }
        Ok((model, lowered))
    }

    /// Parses and lowers one expression over this model's names, such as a
    /// result printed with `--format dsl`; declared index names may be free.
    pub fn expression(&mut self, source: &Source) -> Result<ExprId, Diagnostic> {
        let parsed = crate::syntax::parse_expression(source)?;
        let saved = std::mem::replace(&mut self.source, source.clone());
        let lowered = self.lower_expr(&parsed, &mut Scope::default());
        self.source = saved;
        lowered
    }

    /// The family of that name.
    pub fn family_named(&self, name: &str) -> Option<FamilyId> {
        self.family_names.get(name).copied()
    }

    /// The family behind an id.
    pub fn family(&self, id: FamilyId) -> &Family {
        &self.families[id.0 as usize]
    }

    /// Those of `targets` that `family` depends on, through its definition
    /// and the definitions of what that refers to, in the order given.
    pub fn depends_on(&self, family: FamilyId, targets: &[FamilyId]) -> Vec<FamilyId> {
        let mut seen: HashSet<FamilyId> = HashSet::default();
        let mut pending = vec![family];
        let mut reached: HashSet<FamilyId> = HashSet::default();
        while let Some(next) = pending.pop() {
            let Some(definition) = self.family(next).definition else {
                continue;
            };
            for id in self.store.post_order(definition) {
                if let Node::Ref(used, _) = self.store.node(id)
                    && seen.insert(*used)
                {
                    if targets.contains(used) {
                        reached.insert(*used);
                    }
                    pending.push(*used);
                }
            }
        }
        targets
            .iter()
            .copied()
            .filter(|t| *t != family && reached.contains(t))
            .collect()
    }

    /// Every family id, in order of declaration.
    pub fn family_ids(&self) -> impl Iterator<Item = FamilyId> + use<> {
        (0..self.families.len() as u32).map(FamilyId)
    }

    /// Every name a user may write in an expression or a query.
    pub fn is_taken(&self, name: &str) -> bool {
        KEYWORDS.contains(&name)
            || Builtin::from_name(name).is_some()
            || Extremum::from_name(name).is_some()
            || self.family_names.contains_key(name)
            || self.indices.contains_key(name)
            || self.functions.iter().any(|f| f == name)
    }

    /// The names a bound index hinted `var` may print as, in the order
    /// they are tried: its own name (when no family or function has it),
    /// the declared names of its range, then the next free index letters.
    /// The printer and the derivation's sums both choose from these, so
    /// that a reason names an index as the step prints it.
    pub fn bound_name_candidates(&self, var: IndexVar) -> Vec<String> {
        let info = self.store.var(var);
        let declared: Vec<String> = self
            .index_order
            .iter()
            .map(|v| self.store.var(*v))
            .filter(|v| v.range == info.range)
            .map(|v| v.name.clone())
            .collect();
        let mut candidates = Vec::new();
        if declared.contains(&info.name) || !self.is_taken(&info.name) {
            candidates.push(info.name.clone());
        }
        candidates.extend(declared);
        candidates.extend(self.next_index_letters(index_base(&info.name)));
        candidates
    }

    /// The index letters after `name`, when it is one of them, that name
    /// nothing in the model (Bishop's i, j, k, l, m, n, then p to v): the
    /// names a bound index takes when its own and its range's are in use.
    fn next_index_letters(&self, name: &str) -> Vec<String> {
        const INDEX_LETTERS: [char; 12] =
            ['i', 'j', 'k', 'l', 'm', 'n', 'p', 'q', 'r', 's', 'u', 'v'];
        let mut chars = name.chars();
        let (Some(letter), None) = (chars.next(), chars.next()) else {
            return Vec::new();
        };
        let Some(at) = INDEX_LETTERS.iter().position(|c| *c == letter) else {
            return Vec::new();
        };
        INDEX_LETTERS[at + 1..]
            .iter()
            .map(char::to_string)
            .filter(|candidate| {
                !self.is_taken(candidate)
                    && !self.ranges.iter().any(|range| range.name == *candidate)
            })
            .collect()
    }

    /// Resolves a parsed query against the model; errors are located in `source`.
    pub fn resolve_query(&self, source: &Source, query: &ast::Query) -> Result<Query, Diagnostic> {
        let side = |declared: &Declared| -> Result<(FamilyId, Vec<IndexVar>), Diagnostic> {
            let family = self.family_named(&declared.name.text).ok_or_else(|| {
                let error = source.error(
                    declared.name.span,
                    format!("unknown family `{}` in the query", declared.name.text),
                );
                self.suggest_family(error, &declared.name.text)
            })?;
            let info = self.family(family);
            if declared.indices.len() != info.ranges.len() {
                return Err(source.error(
                    declared.name.span,
                    format!(
                        "`{}` takes {} but the query gives {}",
                        info.name,
                        count(info.ranges.len(), "index", "indices"),
                        declared.indices.len()
                    ),
                ));
            }
            let mut vars = Vec::new();
            for (position, index) in declared.indices.iter().enumerate() {
                let var = *self.indices.get(&index.text).ok_or_else(|| {
                    source
                        .error(
                            index.span,
                            format!("undeclared index `{}` in the query", index.text),
                        )
                        .with_help("declare it with `index NAME in RANGE`")
                })?;
                self.check_range(source, index, var, family, position)?;
                vars.push(var);
            }
            Ok((family, vars))
        };
        let (numerator, numerator_indices) = side(&query.numerator)?;
        let (denominator, denominator_indices) = side(&query.denominator)?;
        let text = source.text[query.span.start..query.span.end]
            .trim()
            .to_string();
        Ok(Query {
            numerator,
            numerator_indices,
            denominator,
            denominator_indices,
            text,
        })
    }

    fn suggest_family(&self, error: Diagnostic, wanted: &str) -> Diagnostic {
        match closest(wanted, self.families.iter().map(|f| f.name.as_str())) {
            Some(near) => error.with_help(format!("did you mean `{near}`?")),
            None => error,
        }
    }

    fn check_range(
        &self,
        source: &Source,
        index: &Ident,
        var: IndexVar,
        family: FamilyId,
        position: usize,
    ) -> Result<(), Diagnostic> {
        let info = self.family(family);
        let wanted = info.ranges[position];
        let found = self.store.var(var).range;
        if wanted == found {
            return Ok(());
        }
        Err(source.error(
            index.span,
            format!(
                "index `{}` ranges over {} but position {} of `{}` ranges over {}",
                index.text,
                self.ranges[found.0 as usize].name,
                position + 1,
                info.name,
                self.ranges[wanted.0 as usize].name
            ),
        ))
    }

    fn range_named(&mut self, name: &str) -> RangeId {
        if let Some(at) = self.ranges.iter().position(|r| r.name == name) {
            return RangeId(at as u32);
        }
        self.ranges.push(RangeInfo {
            name: name.to_string(),
            size: None,
            size_span: None,
        });
        RangeId(self.ranges.len() as u32 - 1)
    }

    /// The line, counted from 1, that `span` starts on.
    fn line_of(&self, span: Span) -> usize {
        self.source.error(span, "").location.map_or(0, |l| l.line)
    }

    /// Refuses reserved words and names already in use.
    fn claim_name(&mut self, name: &Ident, what: &'static str) -> Result<(), Diagnostic> {
        if KEYWORDS.contains(&name.text.as_str()) || Builtin::from_name(&name.text).is_some() {
            return Err(self.source.error(
                name.span,
                format!("`{}` is a reserved word and cannot name {what}", name.text),
            ));
        }
        if let Some((span, earlier_what)) = self.claimed.get(&name.text) {
            let line = self.line_of(*span);
            return Err(self.source.error(
                name.span,
                format!(
                    "`{}` is already declared as {earlier_what} on line {line}; each name is declared once",
                    name.text
                ),
            ));
        }
        self.claimed.insert(name.text.clone(), (name.span, what));
        Ok(())
    }

    /// First pass: ranges, index names, leaves, functions and the heads of
    /// definitions, so that definitions may come in any order.
    fn declare(&mut self, file: &ast::File) -> Result<(), Diagnostic> {
        for statement in &file.statements {
            match statement {
                Statement::Range { name, size } => {
                    let range = self.range_named(&name.text);
                    self.ranges[range.0 as usize].size = Some(*size);
                    self.ranges[range.0 as usize].size_span = Some(name.span);
                    if *size == 0 {
                        return Err(self
                            .source
                            .error(name.span, "a range must have at least one element"));
                    }
                }
                Statement::Index { names, range } => {
                    for name in names {
                        self.claim_name(name, "an index")?;
                        let range = match range {
                            Some(range) => self.range_named(&range.text),
                            None => self.range_named(&name.text),
                        };
                        let var = self.store.new_var(name.text.clone(), range);
                        self.indices.insert(name.text.clone(), var);
                        self.index_order.push(var);
                    }
                }
                Statement::Function { names } => {
                    for name in names {
                        self.claim_name(name, "a function")?;
                        self.functions.push(name.text.clone());
                    }
                }
                Statement::Leaf { kind, families } => {
                    for declared in families {
                        self.add_family(declared, FamilyKind::Leaf(*kind))?;
                    }
                }
                Statement::Definition { target, .. } => {
                    self.add_family(target, FamilyKind::Defined)?;
                }
                _ => {}
            }
        }
        Ok(())
    }

    fn add_family(&mut self, declared: &Declared, kind: FamilyKind) -> Result<(), Diagnostic> {
        let name = &declared.name;
        if let Some(existing) = self.family_names.get(&name.text) {
            let earlier = self
                .source
                .error(self.family(*existing).span, "")
                .location
                .map_or(0, |l| l.line);
            let message = if kind == FamilyKind::Defined
                && self.family(*existing).kind == FamilyKind::Defined
            {
                format!(
                    "`{}` is defined twice (first on line {earlier}); each name is defined once",
                    name.text
                )
            } else {
                format!(
                    "`{}` is already declared (line {earlier}); each name is declared once",
                    name.text
                )
            };
            return Err(self.source.error(name.span, message));
        }
        self.claim_name(name, "a family")?;
        let mut slots = Vec::new();
        let mut ranges = Vec::new();
        for index in &declared.indices {
            let var = self.declared_index(index)?;
            if slots.contains(&var) {
                return Err(self.source.error(
                    index.span,
                    format!(
                        "index `{}` appears twice on the left; use two names over one range",
                        index.text
                    ),
                ));
            }
            slots.push(var);
            ranges.push(self.store.var(var).range);
        }
        let id = FamilyId(self.families.len() as u32);
        self.families.push(Family {
            name: name.text.clone(),
            kind,
            ranges,
            slots,
            definition: None,
            span: name.span,
            latex: None,
            delta_latex: None,
        });
        self.family_names.insert(name.text.clone(), id);
        Ok(())
    }

    fn declared_index(&self, index: &Ident) -> Result<IndexVar, Diagnostic> {
        self.indices.get(&index.text).copied().ok_or_else(|| {
            let error = self
                .source
                .error(index.span, format!("undeclared index `{}`", index.text));
            match closest(&index.text, self.indices.keys().map(String::as_str)) {
                Some(near) => error.with_help(format!(
                    "did you mean `{near}`? Otherwise declare it with `index {} in RANGE`",
                    index.text
                )),
                None => error.with_help(format!("declare it with `index {} in RANGE`", index.text)),
            }
        })
    }

    /// Second pass: bodies, assumptions, notation and queries.
    fn define(&mut self, file: &ast::File) -> Result<(), Diagnostic> {
        // Where each family's notation was given, `delta` lines apart.
        let mut notation_lines: HashMap<(FamilyId, bool), Span> = HashMap::default();
        let mut kronecker_line: Option<Span> = None;
        for statement in &file.statements {
            match statement {
                Statement::Definition { target, body } => {
                    let family = self
                        .family_named(&target.name.text)
                        .expect("declared in the first pass");
                    let mut scope =
                        Scope::with_free_names(target.indices.iter().map(|i| i.text.clone()));
                    let lowered = self.lower_expr(body, &mut scope)?;
                    if let Some(stray) = scope
                        .free_uses
                        .iter()
                        .find(|i| !target.indices.iter().any(|l| l.text == i.text))
                    {
                        let name = &stray.text;
                        return Err(self
                            .source
                            .error(
                                stray.span,
                                format!("index `{name}` is free on the right but not on the left of `{}`", target.name.text),
                            )
                            .with_help(format!("add `{name}` to the left-hand side, or sum over it with `sum({name}, ...)`")));
                    }
                    self.families[family.0 as usize].definition = Some(lowered);
                }
                Statement::Assume { lhs, rhs } => {
                    let mut scope = Scope::default();
                    let lhs_id = self.lower_expr(lhs, &mut scope)?;
                    let rhs_id = self.lower_expr(rhs, &mut scope)?;
                    let span = lhs.span().join(rhs.span());
                    if let Some(earlier) = self
                        .assumptions
                        .iter()
                        .find(|a| a.lhs == lhs_id && a.rhs != rhs_id)
                    {
                        let line = self.line_of(earlier.span);
                        return Err(self.source.error(
                            span,
                            format!("this assumption contradicts the one on line {line}, which gives the same left side another value"),
                        ));
                    }
                    self.assumptions.push(Assumption {
                        lhs: lhs_id,
                        rhs: rhs_id,
                        span,
                    });
                }
                Statement::Latex { name, tex } | Statement::DeltaNotation { name, tex } => {
                    let family = self.family_named(&name.text).ok_or_else(|| {
                        let error = self
                            .source
                            .error(name.span, format!("unknown family `{}`", name.text));
                        self.suggest_family(error, &name.text)
                    })?;
                    if let Err((offset, message)) = notation::check_notation(&tex.text) {
                        let at = tex.span.start + offset.min(tex.text.len());
                        return Err(self.source.error(Span::new(at, at + 1), message));
                    }
                    let is_latex = matches!(statement, Statement::Latex { .. });
                    if let Some(earlier) = notation_lines.insert((family, is_latex), name.span) {
                        let line = self.line_of(earlier);
                        let kind = if is_latex { "latex" } else { "delta" };
                        return Err(self.source.error(
                            name.span,
                            format!("a second `{kind}` line for `{}`; line {line} gives its notation already", name.text),
                        ).with_help("keep one of the two lines"));
                    }
                    let slot = &mut self.families[family.0 as usize];
                    if is_latex {
                        slot.latex = Some(tex.text.clone());
                    } else {
                        slot.delta_latex = Some(tex.text.clone());
                    }
                }
                Statement::KroneckerNotation { tex } => {
                    if let Err((offset, message)) = notation::check_notation(&tex.text) {
                        let at = tex.span.start + offset.min(tex.text.len());
                        return Err(self.source.error(Span::new(at, at + 1), message));
                    }
                    if let Some(earlier) = kronecker_line {
                        let line = self.line_of(earlier);
                        return Err(self
                            .source
                            .error(
                                tex.span,
                                format!("a second `kronecker` line; line {line} gives its notation already"),
                            )
                            .with_help("keep one of the two lines"));
                    }
                    kronecker_line = Some(tex.span);
                    self.kronecker_latex = tex.text.clone();
                }
                Statement::Derive(query) => {
                    let source = self.source.clone();
                    let resolved = self.resolve_query(&source, query)?;
                    self.queries.push(resolved);
                }
                _ => {}
            }
        }
        if kronecker_line.is_none() {
            self.kronecker_latex = default_kronecker(&self.families).to_string();
        }
        Ok(())
    }
}

/// A bound index's name without its trailing digits (`i` for `i2`), `i`
/// when nothing is left: the base of its numbered and lettered names.
pub fn index_base(name: &str) -> &str {
    match name.trim_end_matches(|c: char| c.is_ascii_digit()) {
        "" => "i",
        base => base,
    }
}

/// The Kronecker delta's symbol when no `kronecker` line gives one: `I`
/// when a `delta` line uses `\delta` (as Bishop writes I_kj in eq. 4.106),
/// else `\delta`.
fn default_kronecker(families: &[Family]) -> &'static str {
    let uses_delta = families
        .iter()
        .filter_map(|f| f.delta_latex.as_deref())
        .any(|tex| {
            tex.trim_start()
                .strip_prefix("\\delta")
                .is_some_and(|rest| !rest.starts_with(|c: char| c.is_ascii_alphabetic()))
        });
    if uses_delta { "I" } else { "\\delta" }
}

fn count(n: usize, one: &str, many: &str) -> String {
    if n == 1 {
        format!("1 {one}")
    } else {
        format!("{n} {many}")
    }
}

/// The names of quantities and of functions an expression uses, in order.
fn collect_names(expr: &ast::Expr, names: &mut Vec<Ident>, functions: &mut Vec<Ident>) {
    for part in expr.walk() {
        match part {
            // `pi` in a quick question is the constant.
            ast::Expr::Reference(declared) if declared.name.text != PI_NAME => {
                names.push(declared.name.clone())
            }
            ast::Expr::Call { function, .. } => functions.push(function.clone()),
            _ => {}
        }
    }
}
