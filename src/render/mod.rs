//! Printing expressions and equations as Unicode text, LaTeX or the
//! language's own syntax.
//!
//! One printer serves every format: the format is data, and parentheses come
//! from one precedence table. The printer never rewrites an expression; it
//! only chooses how to show it (order of factors, fractions, minus signs,
//! names for bound indices).

pub mod document;
pub mod report;
pub mod symbols;

use rustc_hash::FxHashMap as HashMap;

use num_rational::BigRational;
use num_traits::{One, Signed};

use crate::calculus::Form;
use crate::calculus::deltas::Naming;
use crate::expr::functions::LatexName;
use crate::expr::{Builtin, ExprId, FamilyId, Function, IndexVar, Node, Store};
use crate::model::{FamilyKind, LeafKind, Model, index_base};
use symbols::{
    carries_script, default_latex, default_text, dsl_reference, greek_text, latex_escape_name,
    latex_identifier, latex_to_text, latex_with_indices, subscript_or_bracket, subscripts,
    superscript,
};

/// The output formats of a formula.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum Format {
    /// Unicode for a terminal.
    Text,
    /// LaTeX math, in the file's notation.
    Latex,
    /// The language's own syntax; parses back.
    Dsl,
}

/// How tightly a printed piece binds, lowest to highest.
#[derive(Clone, Copy, Debug, PartialEq, Eq, PartialOrd, Ord)]
enum Precedence {
    Sum,
    Product,
    Negation,
    Power,
    Atom,
}

/// A printed piece and how tightly it binds.
#[derive(Clone, Debug)]
struct Piece {
    text: String,
    precedence: Precedence,
    /// True when the piece opens with a summation sign, which reaches over
    /// everything after it in a product.
    open_sum: bool,
}

impl Piece {
    fn atom(text: String) -> Piece {
        Piece {
            text,
            precedence: Precedence::Atom,
            open_sum: false,
        }
    }
}

/// The left side of an equation.
#[derive(Clone, Debug)]
pub enum Lhs {
    /// `d numerator[...] / d denominator[...]`.
    Derivative {
        /// What is differentiated.
        numerator: FamilyId,
        /// Its indices.
        numerator_indices: Vec<IndexVar>,
        /// With respect to what.
        denominator: FamilyId,
        /// Its indices.
        denominator_indices: Vec<IndexVar>,
    },
    /// The delta of a family: `δ_j`.
    Delta(FamilyId, Vec<IndexVar>),
    /// An element of a family, as on the left of its definition: `a_j`.
    Family(FamilyId, Vec<IndexVar>),
}

impl Lhs {
    /// The left side of a query's result in `form`: its delta (`δ_j`) when
    /// the result in that form names the denominator by its delta, else the
    /// derivative itself.
    pub fn of_query(model: &Model, query: &crate::model::Query, form: Form) -> Lhs {
        let naming = Naming::of_form(form, query.numerator_indices.is_empty());
        if naming.names(model, query.numerator, query.denominator) {
            Lhs::Delta(query.denominator, query.denominator_indices.clone())
        } else {
            Lhs::Derivative {
                numerator: query.numerator,
                numerator_indices: query.numerator_indices.clone(),
                denominator: query.denominator,
                denominator_indices: query.denominator_indices.clone(),
            }
        }
    }
}

/// The names in force at some place of a formula: the name each index
/// variable prints as, and the names already taken there.
#[derive(Clone, Debug, Default)]
struct Scope {
    names: HashMap<IndexVar, String>,
    taken: Vec<String>,
}

/// Prints formulas of one model in one format.
///
/// A formula is printed bottom-up with a stack of its own, so that its
/// depth does not matter: each node's piece is made from the pieces of the
/// parts it shows, and a piece is kept only until the last parent waiting
/// for it takes it, so that memory stays within the size of the output.
pub struct Printer<'a> {
    model: &'a Model,
    format: Format,
    /// Every scope of names met so far; `scope` is the one in force.
    scopes: Vec<Scope>,
    scope: usize,
    /// The pieces made and not yet taken, by expression and scope.
    pieces: HashMap<(ExprId, usize), Piece>,
    /// How many parents still need each piece: a piece is dropped once its
    /// last parent takes it, so that memory stays within the output's size.
    wanted: HashMap<(ExprId, usize), usize>,
    /// For each sum in a scope: the name its binder prints as, and the
    /// scope of its body.
    binders: HashMap<(ExprId, usize), (String, usize)>,
    /// Names made up for bound indices (`j2`), with how a reader sees them
    /// outside the language (`j'`).
    primed: HashMap<String, String>,
}

impl<'a> Printer<'a> {
    /// A printer for `model` in `format`.
    pub fn new(model: &'a Model, format: Format) -> Printer<'a> {
        Printer {
            model,
            format,
            scopes: vec![Scope::default()],
            scope: 0,
            pieces: HashMap::default(),
            wanted: HashMap::default(),
            binders: HashMap::default(),
            primed: HashMap::default(),
        }
    }

    fn store(&self) -> &'a Store {
        &self.model.store
    }

    /// An expression on its own.
    pub fn expr(&mut self, expr: ExprId) -> String {
        self.with_free_names(&[expr], &[], |printer| printer.piece(expr).text)
    }

    /// `lhs = rhs`.
    pub fn equation(&mut self, lhs: &Lhs, rhs: ExprId) -> String {
        self.equation_with(lhs, rhs, " = ")
    }

    /// `lhs &= rhs`: an equation of a LaTeX block aligned on its equals signs.
    pub fn aligned_equation(&mut self, lhs: &Lhs, rhs: ExprId) -> String {
        self.equation_with(lhs, rhs, " &= ")
    }

    /// `lhs`, `equals`, `rhs`.
    fn equation_with(&mut self, lhs: &Lhs, rhs: ExprId, equals: &str) -> String {
        let lhs_vars = match lhs {
            Lhs::Derivative {
                numerator_indices,
                denominator_indices,
                ..
            } => numerator_indices
                .iter()
                .chain(denominator_indices)
                .copied()
                .collect(),
            Lhs::Delta(_, indices) | Lhs::Family(_, indices) => indices.clone(),
        };
        self.with_free_names(&[rhs], &lhs_vars, |printer| {
            let left = printer.lhs(lhs);
            let right = printer.piece(rhs).text;
            format!("{left}{equals}{right}")
        })
    }

    /// `lhs = rhs` for two expressions, sharing their free index names.
    pub fn expr_equation(&mut self, lhs: ExprId, rhs: ExprId) -> String {
        self.with_free_names(&[lhs, rhs], &[], |printer| {
            let left = printer.piece(lhs).text;
            let right = printer.piece(rhs).text;
            format!("{left} = {right}")
        })
    }

    /// Expressions printed side by side as one display, sharing their free
    /// index names (the links of a derivation).
    pub fn exprs(&mut self, exprs: &[ExprId]) -> Vec<String> {
        self.with_free_names(exprs, &[], |printer| {
            exprs.iter().map(|e| printer.piece(*e).text).collect()
        })
    }

    /// The left side alone.
    pub fn lhs(&mut self, lhs: &Lhs) -> String {
        match lhs {
            Lhs::Derivative {
                numerator,
                numerator_indices,
                denominator,
                denominator_indices,
            } => self.derivative_symbol(
                *numerator,
                numerator_indices,
                *denominator,
                denominator_indices,
            ),
            Lhs::Delta(family, indices) => self.delta_symbol(*family, indices),
            Lhs::Family(family, indices) => self.reference(*family, indices),
        }
    }

    fn with_free_names<T>(
        &mut self,
        exprs: &[ExprId],
        extra: &[IndexVar],
        body: impl FnOnce(&mut Self) -> T,
    ) -> T {
        let saved = self.scope;
        let mut scope = self.scopes[saved].clone();
        self.scopes.push(Scope::default());
        self.scope = self.scopes.len() - 1;
        let mut free: Vec<IndexVar> = extra.to_vec();
        for expr in exprs {
            free.extend(self.store().free_vars(*expr));
        }
        free.sort_unstable();
        free.dedup();
        // Declared index names keep their names; a variable the engine made
        // whose name is taken gets another, as a bound one would.
        free.sort_by_key(|v| !self.model.index_order.contains(v));
        for var in free {
            let hint = self.store().var(var).name.clone();
            let name = if scope.taken.contains(&hint) {
                self.bind_name(var, &scope.taken)
            } else {
                hint
            };
            scope.taken.push(name.clone());
            scope.names.insert(var, name);
        }
        let at = self.scope;
        self.scopes[at] = scope;
        let result = body(self);
        self.scope = saved;
        result
    }

    fn var_name(&self, var: IndexVar) -> String {
        let name = self.scopes[self.scope]
            .names
            .get(&var)
            .cloned()
            .unwrap_or_else(|| self.store().var(var).name.clone());
        match (self.format, self.primed.get(&name)) {
            (Format::Text | Format::Latex, Some(primed)) => primed.clone(),
            _ => name,
        }
    }

    /// Chooses a readable name for a bound index: its own hint if free,
    /// else another declared index over the same range, else the next free
    /// index letter after the hint's (`j`, then `l` when `k` is taken),
    /// else a numbered one, which reads as primed (`j'`).
    fn bind_name(&mut self, var: IndexVar, taken: &[String]) -> String {
        let mut candidates = self.model.bound_name_candidates(var);
        let base = index_base(&self.store().var(var).name).to_string();
        for n in 2.. {
            let candidate = candidates.iter().find(|c| !taken.contains(c)).cloned();
            if let Some(name) = candidate {
                return name;
            }
            let numbered = format!("{base}{n}");
            if !self.model.is_taken(&numbered) {
                self.primed
                    .insert(numbered.clone(), format!("{base}{}", "'".repeat(n - 1)));
                candidates.push(numbered);
            }
        }
        unreachable!("some numbered name is always free")
    }

    /// The piece of `root` in the scope in force, made bottom-up: a node's
    /// piece is composed once the pieces of the parts it shows are made.
    fn piece(&mut self, root: ExprId) -> Piece {
        let top = self.scope;
        let mut stack = vec![(root, top, false)];
        let mut needs = Vec::new();
        while let Some((expr, scope, ready)) = stack.pop() {
            if self.pieces.contains_key(&(expr, scope)) {
                continue;
            }
            self.scope = scope;
            if !ready {
                stack.push((expr, scope, true));
                needs.clear();
                self.needs(expr, &mut needs);
                for part in needs.drain(..) {
                    *self.wanted.entry(part).or_insert(0) += 1;
                    if !self.pieces.contains_key(&part) {
                        stack.push((part.0, part.1, false));
                    }
                }
                continue;
            }
            let piece = self.compose(expr);
            self.pieces.insert((expr, scope), piece);
        }
        self.scope = top;
        let piece = self
            .pieces
            .remove(&(root, top))
            .expect("the root's piece is made last");
        debug_assert!(
            self.pieces.is_empty() && self.wanted.is_empty(),
            "every piece made is taken by a parent"
        );
        piece
    }

    /// The piece of a part shown in the scope in force, taken by one of
    /// the parents that need it.
    fn get(&mut self, expr: ExprId) -> Piece {
        self.take(expr, self.scope)
    }

    /// The piece of `expr` in `scope`, dropped when no other parent needs it.
    fn take(&mut self, expr: ExprId, scope: usize) -> Piece {
        let key = (expr, scope);
        let left = self
            .wanted
            .get_mut(&key)
            .expect("a parent listed what it takes");
        *left -= 1;
        if *left == 0 {
            self.wanted.remove(&key);
            self.pieces.remove(&key).expect("made before it is taken")
        } else {
            self.pieces[&key].clone()
        }
    }

    /// The parts whose pieces `expr`'s piece is made of, with the scope
    /// each is printed in.
    fn needs(&mut self, expr: ExprId, needs: &mut Vec<(ExprId, usize)>) {
        let scope = self.scope;
        let store = self.store();
        match store.node(expr) {
            Node::Number(_) | Node::Ref(..) | Node::Adjoint(..) | Node::Delta(..) => {}
            Node::Add(terms) => {
                // A negative term is shown from its factors, its sign taken out.
                for term in terms.iter() {
                    if self.is_negative_term(*term) {
                        self.product_needs(*term, needs);
                    } else {
                        needs.push((*term, scope));
                    }
                }
            }
            Node::Mul(_) | Node::Pow(..) => self.product_needs(expr, needs),
            Node::Call(_, _, argument) => needs.push((*argument, scope)),
            Node::Derivative(of, _) => needs.push((*of, scope)),
            Node::Sum(bound, body) => {
                let (_, body_scope) = self.binder(expr, *bound);
                needs.push((*body, body_scope));
            }
        }
    }

    /// The parts a product shows: the base and exponent of every factor,
    /// and the argument of a function shown raised to a power (a power of
    /// -1 shows as the function under a fraction bar, raised to nothing).
    fn product_needs(&self, expr: ExprId, needs: &mut Vec<(ExprId, usize)>) {
        let scope = self.scope;
        let (_, factors) = self.coefficient_and_factors(expr);
        for factor in factors {
            match self.store().node(factor) {
                Node::Pow(base, exponent) => {
                    needs.push((*base, scope));
                    let shown_power = match self.store().as_number(*exponent) {
                        Some(_) => !self.store().is_minus_one(*exponent),
                        None => {
                            needs.push((*exponent, scope));
                            true
                        }
                    };
                    if let (Node::Call(_, _, argument), true) =
                        (self.store().node(*base), shown_power)
                    {
                        needs.push((*argument, scope));
                    }
                }
                _ => needs.push((factor, scope)),
            }
        }
    }

    /// The name a sum's binder prints as in the scope in force, and the
    /// scope of its body: chosen once for each sum and scope.
    fn binder(&mut self, sum: ExprId, bound: IndexVar) -> (String, usize) {
        let key = (sum, self.scope);
        if let Some(known) = self.binders.get(&key) {
            return known.clone();
        }
        let mut inner = self.scopes[self.scope].clone();
        let name = self.bind_name(bound, &inner.taken);
        inner.names.insert(bound, name.clone());
        inner.taken.push(name.clone());
        self.scopes.push(inner);
        let made = (name, self.scopes.len() - 1);
        self.binders.insert(key, made.clone());
        made
    }

    /// The piece of a node whose parts' pieces are made.
    fn compose(&mut self, expr: ExprId) -> Piece {
        match self.store().node(expr) {
            Node::Number(value) => self.number(value),
            Node::Ref(family, indices) => Piece::atom(self.reference(*family, indices)),
            Node::Adjoint(family, indices) => Piece::atom(self.delta_symbol(*family, indices)),
            Node::Delta(a, b) => Piece::atom(self.kronecker(*a, *b)),
            Node::Add(terms) => self.add(terms),
            Node::Mul(_) | Node::Pow(..) => self.product(expr),
            Node::Call(function, order, argument) => {
                let inner = self.get(*argument).text;
                self.call(*function, *order, inner, None)
            }
            Node::Sum(..) => self.sum(expr),
            Node::Derivative(of, wrt) => self.formal_derivative(*of, wrt.family, &wrt.indices),
        }
    }

    /// `∂a_k/∂a_j`, or `∂/∂a_j (...)` for an expression that is not a name.
    fn formal_derivative(&mut self, of: ExprId, family: FamilyId, indices: &[IndexVar]) -> Piece {
        let bottom = self.reference(family, indices);
        let named = matches!(self.store().node(of), Node::Ref(..));
        let top = if named {
            self.get(of).text
        } else {
            String::new()
        };
        let text = match self.format {
            Format::Latex => format!("\\frac{{\\partial {top}}}{{\\partial {bottom}}}"),
            Format::Text => format!("∂{top}/∂{bottom}"),
            Format::Dsl => format!("d{top}/d{bottom}"),
        };
        if named {
            return Piece::atom(text);
        }
        let inner = self.get(of).text;
        let spacer = if self.format == Format::Latex {
            " "
        } else {
            ""
        };
        Piece {
            text: format!("{text}{spacer}{}", self.parens(&inner)),
            precedence: Precedence::Product,
            open_sum: false,
        }
    }

    fn number(&self, value: &BigRational) -> Piece {
        let magnitude = value.abs();
        let text = if magnitude.is_integer() {
            magnitude.numer().to_string()
        } else {
            match self.format {
                Format::Latex => {
                    format!("\\frac{{{}}}{{{}}}", magnitude.numer(), magnitude.denom())
                }
                _ => format!("{}/{}", magnitude.numer(), magnitude.denom()),
            }
        };
        let precedence = if magnitude.is_integer() || self.format == Format::Latex {
            Precedence::Atom
        } else {
            Precedence::Product
        };
        let piece = Piece {
            text,
            precedence,
            open_sum: false,
        };
        if value.is_negative() {
            self.negated(piece)
        } else {
            piece
        }
    }

    fn negated(&self, inner: Piece) -> Piece {
        let inner_text = if inner.precedence <= Precedence::Negation && !inner.open_sum {
            self.parens(&inner.text)
        } else {
            inner.text
        };
        Piece {
            text: format!("{}{inner_text}", self.minus()),
            precedence: Precedence::Negation,
            open_sum: inner.open_sum,
        }
    }

    fn minus(&self) -> &'static str {
        match self.format {
            Format::Text => "−",
            _ => "-",
        }
    }

    fn parens(&self, text: &str) -> String {
        if self.format == Format::Latex && (text.contains("\\frac") || text.contains("\\sum")) {
            format!("\\left({text}\\right)")
        } else {
            format!("({text})")
        }
    }

    fn add(&mut self, terms: &[ExprId]) -> Piece {
        let mut ordered: Vec<(bool, ExprId)> = terms
            .iter()
            .map(|t| (self.is_negative_term(*t), *t))
            .collect();
        ordered.sort_by_key(|(negative, id)| (*negative, *id));
        let mut text = String::new();
        for (position, (negative, term)) in ordered.into_iter().enumerate() {
            let shown = if negative {
                let (coefficient, factors) = self.coefficient_and_factors(term);
                let coefficient = coefficient.expect("a negative term has a number");
                self.product_of(Some(-coefficient), &factors)
            } else {
                self.get(term)
            };
            let shown_text = if shown.precedence <= Precedence::Sum {
                self.parens(&shown.text)
            } else {
                shown.text
            };
            match (position, negative) {
                (0, false) => text.push_str(&shown_text),
                (0, true) => {
                    text.push_str(self.minus());
                    text.push_str(&shown_text);
                }
                (_, false) => {
                    text.push_str(" + ");
                    text.push_str(&shown_text);
                }
                (_, true) => {
                    text.push(' ');
                    text.push_str(self.minus());
                    text.push(' ');
                    text.push_str(&shown_text);
                }
            }
        }
        Piece {
            text,
            precedence: Precedence::Sum,
            open_sum: false,
        }
    }

    /// The factors of a product, products inside it spliced in (a derived
    /// result put in place reads as part of one product), split into the
    /// numeric coefficient (none for a product without a number) and the
    /// rest.
    fn coefficient_and_factors(&self, expr: ExprId) -> (Option<BigRational>, Vec<ExprId>) {
        let mut coefficient: Option<BigRational> = None;
        let mut factors = Vec::new();
        let mut pending = vec![expr];
        while let Some(next) = pending.pop() {
            match self.store().node(next) {
                Node::Mul(inner) => pending.extend(inner.iter().rev().copied()),
                Node::Number(value) => {
                    coefficient = Some(match coefficient {
                        Some(product) => product * value,
                        None => value.clone(),
                    })
                }
                _ => factors.push(next),
            }
        }
        (coefficient, factors)
    }

    /// True when a term's numeric coefficient is negative (its numbers'
    /// signs, counted without multiplying them).
    fn is_negative_term(&self, term: ExprId) -> bool {
        let store = self.store();
        let mut negative = false;
        let mut pending = vec![term];
        while let Some(next) = pending.pop() {
            match store.node(next) {
                Node::Mul(inner) => pending.extend(inner.iter().copied()),
                Node::Number(value) => negative ^= value.is_negative(),
                _ => {}
            }
        }
        negative
    }

    fn product(&mut self, expr: ExprId) -> Piece {
        let (coefficient, factors) = self.coefficient_and_factors(expr);
        self.product_of(coefficient, &factors)
    }

    /// A product shown as numerator over denominator, factors in a
    /// textbook's order, the sum sign last.
    fn product_of(&mut self, coefficient: Option<BigRational>, factors: &[ExprId]) -> Piece {
        let mut over: Vec<(u8, ExprId, Exponent)> = Vec::new();
        let mut under: Vec<(u8, ExprId, Exponent)> = Vec::new();
        for factor in factors {
            match self.store().node(*factor) {
                Node::Pow(base, exponent) => match self.store().as_number(*exponent) {
                    Some(value) if value.is_negative() => {
                        let power = if self.store().is_minus_one(*exponent) {
                            Exponent::One
                        } else {
                            Exponent::Number(-value.clone())
                        };
                        under.push((self.factor_class(*factor), *base, power));
                    }
                    Some(value) => over.push((
                        self.factor_class(*factor),
                        *base,
                        Exponent::Number(value.clone()),
                    )),
                    None => {
                        over.push((self.factor_class(*factor), *base, Exponent::Expr(*exponent)))
                    }
                },
                _ => over.push((self.factor_class(*factor), *factor, Exponent::One)),
            }
        }
        over.sort_by_key(|(class, id, _)| (*class, *id));
        under.sort_by_key(|(class, id, _)| (*class, *id));
        // The magnitude of the coefficient, none when it is 1.
        let (negative, magnitude) = match coefficient {
            Some(value) if value.is_negative() => (true, Some(-value)),
            Some(value) if value.is_one() => (false, None),
            value => (false, value),
        };
        let fraction = magnitude.as_ref().filter(|value| !value.is_integer());
        // ½ Σ ... reads better than (Σ ...)/2.
        let has_sum = over
            .iter()
            .any(|(_, f, _)| matches!(self.store().node(*f), Node::Sum(..)));
        if let Some(fraction) = fraction
            && under.is_empty()
            && has_sum
        {
            let fraction = self.number(fraction);
            let rest = self.juxtapose(None, &over);
            let separator = if self.format == Format::Dsl { "*" } else { " " };
            let piece = Piece {
                text: format!("{}{separator}{}", fraction.text, rest.text),
                precedence: Precedence::Product,
                open_sum: rest.open_sum,
            };
            return if negative { self.negated(piece) } else { piece };
        }
        let (numerator_number, denominator_number) = match magnitude {
            Some(value) if !value.is_integer() => {
                let (numerator, denominator) = value.into_raw();
                (
                    Some(BigRational::from_integer(numerator)),
                    Some(BigRational::from_integer(denominator)),
                )
            }
            value => (value, None),
        };
        let top = self.juxtapose(numerator_number.as_ref(), &over);
        let piece = if under.is_empty() && denominator_number.is_none() {
            top
        } else {
            let bottom = self.juxtapose(denominator_number.as_ref(), &under);
            match self.format {
                Format::Latex => Piece::atom(format!("\\frac{{{}}}{{{}}}", top.text, bottom.text)),
                _ => {
                    let top_text = if top.precedence < Precedence::Product || top.open_sum {
                        self.parens(&top.text)
                    } else {
                        top.text
                    };
                    let bottom_text = if bottom.precedence <= Precedence::Product || bottom.open_sum
                    {
                        self.parens(&bottom.text)
                    } else {
                        bottom.text
                    };
                    Piece {
                        text: format!("{top_text}/{bottom_text}"),
                        precedence: Precedence::Product,
                        open_sum: false,
                    }
                }
            }
        };
        if negative { self.negated(piece) } else { piece }
    }

    /// A number (none for 1) and factors side by side (text, LaTeX) or
    /// joined by `*` (dsl).
    fn juxtapose(
        &mut self,
        number: Option<&BigRational>,
        factors: &[(u8, ExprId, Exponent)],
    ) -> Piece {
        let mut parts: Vec<Piece> = Vec::with_capacity(factors.len() + 1);
        match number {
            Some(value) if !value.is_one() => parts.push(self.number(value)),
            _ if factors.is_empty() => parts.push(self.number(&BigRational::one())),
            _ => {}
        }
        for (_, base, exponent) in factors {
            let piece = match exponent {
                Exponent::One => self.get(*base),
                Exponent::Number(power) => {
                    let shown = self.number(power);
                    self.power_of(*base, shown)
                }
                Exponent::Expr(power) => {
                    let shown = self.get(*power);
                    self.power_of(*base, shown)
                }
            };
            parts.push(piece);
        }
        if parts.len() == 1 {
            return parts.pop().expect("one part");
        }
        let count = parts.len();
        let mut text = String::new();
        let mut open_sum = false;
        for (position, part) in parts.into_iter().enumerate() {
            let last = position + 1 == count;
            let needs_parens = part.precedence < Precedence::Product
                || (part.precedence == Precedence::Negation)
                || (part.open_sum && !last)
                || (part.precedence == Precedence::Product
                    && self.format != Format::Dsl
                    && !part.open_sum);
            let shown = if needs_parens {
                self.parens(&part.text)
            } else {
                part.text
            };
            if position > 0 {
                let separator = match self.format {
                    Format::Dsl => "*",
                    Format::Latex if starts_with_digit(&shown) && ends_with_digit(&text) => {
                        " \\cdot "
                    }
                    Format::Text if starts_with_digit(&shown) => " · ",
                    _ => " ",
                };
                text.push_str(separator);
            }
            text.push_str(&shown);
            open_sum = last && part.open_sum;
        }
        Piece {
            text,
            precedence: Precedence::Product,
            open_sum,
        }
    }

    /// The order of factors in a product, as textbooks write them:
    /// functions and activation derivatives such as `(1 - z^2)`, parameters,
    /// deltas, other quantities, powers, other bracketed sums, logarithms,
    /// Kronecker deltas, and the summation last.
    fn factor_class(&self, factor: ExprId) -> u8 {
        match self.store().node(factor) {
            Node::Number(_) => 0,
            // A logarithm stands after what it multiplies: t_k ln y_k and
            // (1 - t) ln(1 - y).
            Node::Call(Function::Builtin(Builtin::Log), ..) => 7,
            Node::Call(..) => 1,
            Node::Add(_) if self.holds_power_or_call(factor) => 1,
            Node::Ref(family, _)
                if self.model.family(*family).kind == FamilyKind::Leaf(LeafKind::Param) =>
            {
                2
            }
            Node::Adjoint(..) => 3,
            Node::Ref(..) => 4,
            Node::Pow(base, _) => match self.store().node(*base) {
                Node::Call(..) => 1,
                Node::Add(_) => 6,
                _ => 5,
            },
            Node::Add(_) => 6,
            Node::Delta(..) => 8,
            Node::Mul(_) => 9,
            Node::Derivative(..) => 9,
            Node::Sum(..) => 10,
        }
    }

    /// True when a power or a call stands in `expr` outside any sum.
    fn holds_power_or_call(&self, expr: ExprId) -> bool {
        let store = self.store();
        let mut stack = vec![expr];
        while let Some(next) = stack.pop() {
            match store.node(next) {
                Node::Pow(..) | Node::Call(..) => return true,
                Node::Sum(..) | Node::Adjoint(..) => {}
                _ => stack.extend(store.children(next)),
            }
        }
        false
    }

    /// `base` raised to the power shown as `exponent`: `tanh²(a)` for a
    /// built-in function, `(1 + x)^{n}` otherwise.
    fn power_of(&mut self, base: ExprId, exponent: Piece) -> Piece {
        // Both the base and, for a call, its argument were listed as needed:
        // both are taken, whichever way the power is shown.
        let base_piece = self.get(base);
        if let Node::Call(function, order, argument) = *self.store().node(base) {
            let inner = self.get(argument).text;
            if let (Function::Builtin(builtin), 0, Format::Latex | Format::Text) =
                (function, order, self.format)
                && exponent.precedence == Precedence::Atom
                && !matches!(builtin.row().latex, LatexName::Root | LatexName::Bars)
            {
                return self.call(function, 0, inner, Some(exponent.text));
            }
        }
        // A symbol that carries a superscript of its own, as `w^{(1)}_{ji}`
        // does, is bracketed before it is raised: TeX refuses two. Inside a
        // group counts too, as TeX takes `{\hat{y}^2}` apart again.
        let scripted = self.format == Format::Latex
            && matches!(self.store().node(base), Node::Ref(..) | Node::Adjoint(..))
            && carries_script(&base_piece.text, &['^', '\'']);
        let base_text =
            if base_piece.precedence < Precedence::Atom || base_piece.open_sum || scripted {
                self.parens(&base_piece.text)
            } else {
                base_piece.text
            };
        let text = match self.format {
            Format::Latex => format!("{base_text}^{{{}}}", exponent.text),
            Format::Text => match superscript(&exponent.text) {
                Some(raised) => format!("{base_text}{raised}"),
                None => format!("{base_text}^({})", exponent.text),
            },
            Format::Dsl => {
                if exponent.precedence == Precedence::Atom {
                    format!("{base_text}^{}", exponent.text)
                } else {
                    format!("{base_text}^({})", exponent.text)
                }
            }
        };
        Piece {
            text,
            precedence: Precedence::Power,
            open_sum: false,
        }
    }

    /// A call, its argument printed as `inner`, its value raised to `power`.
    fn call(
        &mut self,
        function: Function,
        order: u32,
        inner: String,
        power: Option<String>,
    ) -> Piece {
        let primes = match self.format {
            Format::Text => match order {
                0 => String::new(),
                1 => "′".to_string(),
                2 => "″".to_string(),
                n => "′".repeat(n as usize),
            },
            _ => "'".repeat(order as usize),
        };
        let name = match function {
            Function::Opaque(id) => {
                let name = &self.model.functions[id.0 as usize];
                match self.format {
                    Format::Latex => latex_identifier(name, "\\operatorname"),
                    Format::Text => greek_text(name).unwrap_or_else(|| name.clone()),
                    Format::Dsl => name.clone(),
                }
            }
            Function::Builtin(builtin) => {
                let row = builtin.row();
                match (self.format, row.latex) {
                    (Format::Dsl, _) => row.name.to_string(),
                    (Format::Text, LatexName::Bars) => return Piece::atom(format!("|{inner}|")),
                    (Format::Text, LatexName::Root) => {
                        return Piece::atom(format!("{}({inner})", row.text));
                    }
                    (Format::Text, _) => row.text.to_string(),
                    (Format::Latex, LatexName::Bars) => {
                        return Piece::atom(format!("\\lvert {inner} \\rvert"));
                    }
                    (Format::Latex, LatexName::Root) => {
                        return Piece::atom(format!("\\sqrt{{{inner}}}"));
                    }
                    (Format::Latex, LatexName::Command(command)) => command.to_string(),
                    (Format::Latex, LatexName::Operator(operator)) => {
                        format!("\\operatorname{{{operator}}}")
                    }
                }
            }
        };
        let raised = match (&power, self.format) {
            (Some(p), Format::Latex) => format!("^{{{p}}}"),
            (Some(p), Format::Text) => superscript(p).unwrap_or_else(|| format!("^({p})")),
            _ => String::new(),
        };
        let argument_text = self.parens(&inner);
        Piece::atom(format!("{name}{primes}{raised}{argument_text}"))
    }

    fn sum(&mut self, expr: ExprId) -> Piece {
        let Node::Sum(bound, body) = self.store().node(expr).clone() else {
            unreachable!("sum() is called on sums")
        };
        let (name, body_scope) = self.binder(expr, bound);
        let inner = self.take(body, body_scope);
        match self.format {
            Format::Dsl => {
                // A name that indexes nothing in the body, and that no index
                // line declares, needs its range written to parse back.
                let declared =
                    self.model.indices.get(&name).is_some_and(|v| {
                        self.store().var(*v).range == self.store().var(bound).range
                    });
                let binder = if declared || indexes_something(self.store(), body, bound) {
                    name
                } else {
                    let range = &self.model.ranges[self.store().var(bound).range.0 as usize].name;
                    format!("{name} in {range}")
                };
                Piece::atom(format!("sum({binder}, {})", inner.text))
            }
            Format::Text | Format::Latex => {
                let body_text = if inner.precedence <= Precedence::Sum {
                    self.parens(&inner.text)
                } else {
                    inner.text
                };
                let shown = self.primed.get(&name).cloned().unwrap_or(name);
                let sign = if self.format == Format::Latex {
                    format!("\\sum_{{{shown}}}")
                } else {
                    format!("Σ{}", subscript_or_bracket(&shown))
                };
                Piece {
                    text: format!("{sign} {body_text}"),
                    precedence: Precedence::Product,
                    open_sum: true,
                }
            }
        }
    }

    fn kronecker(&self, a: IndexVar, b: IndexVar) -> String {
        let (a, b) = (self.var_name(a), self.var_name(b));
        match self.format {
            Format::Dsl => format!("delta({a}, {b})"),
            Format::Latex => latex_with_indices(&self.model.kronecker_latex, &[a, b]),
            Format::Text => {
                let symbol =
                    latex_to_text(&self.model.kronecker_latex).unwrap_or_else(|| "δ".to_string());
                format!("{symbol}{}", subscripts(&[a, b]))
            }
        }
    }

    /// `w^{(2)}_{kj}`, `w⁽²⁾ₖⱼ` or `w2[k,j]`.
    pub fn reference(&self, family: FamilyId, indices: &[IndexVar]) -> String {
        let names: Vec<String> = indices.iter().map(|v| self.var_name(*v)).collect();
        let info = self.model.family(family);
        match self.format {
            Format::Dsl => dsl_reference(&info.name, &names),
            Format::Latex => latex_with_indices(&self.family_latex(family), &names),
            Format::Text => format!("{}{}", self.family_text(family), subscripts(&names)),
        }
    }

    /// The family's symbol in LaTeX: its `latex` line, or one made from its name.
    pub fn family_latex(&self, family: FamilyId) -> String {
        let info = self.model.family(family);
        info.latex
            .clone()
            .unwrap_or_else(|| default_latex(&info.name))
    }

    fn family_text(&self, family: FamilyId) -> String {
        let info = self.model.family(family);
        match &info.latex {
            Some(tex) => latex_to_text(tex).unwrap_or_else(|| default_text(&info.name)),
            None => default_text(&info.name),
        }
    }

    fn delta_symbol(&self, family: FamilyId, indices: &[IndexVar]) -> String {
        let names: Vec<String> = indices.iter().map(|v| self.var_name(*v)).collect();
        let info = self.model.family(family);
        let own_symbol = info
            .delta_latex
            .as_ref()
            .filter(|_| !self.model.shared_delta_symbols.contains(&family));
        match self.format {
            Format::Dsl => dsl_reference(&format!("delta_{}", info.name), &names),
            Format::Latex => {
                let symbol = own_symbol
                    .cloned()
                    .unwrap_or_else(|| format!("\\delta^{{({})}}", latex_escape_name(&info.name)));
                latex_with_indices(&symbol, &names)
            }
            Format::Text => {
                let symbol = match own_symbol {
                    Some(tex) => latex_to_text(tex).unwrap_or_else(|| "δ".to_string()),
                    None => match superscript(&format!("({})", info.name)) {
                        Some(raised) => format!("δ{raised}"),
                        None => format!("δ^({})", info.name),
                    },
                };
                format!("{symbol}{}", subscripts(&names))
            }
        }
    }

    fn derivative_symbol(
        &self,
        numerator: FamilyId,
        numerator_indices: &[IndexVar],
        denominator: FamilyId,
        denominator_indices: &[IndexVar],
    ) -> String {
        let top = self.reference(numerator, numerator_indices);
        let bottom = self.reference(denominator, denominator_indices);
        match self.format {
            Format::Dsl => format!("d{top}/d{bottom}"),
            Format::Latex => format!("\\frac{{\\partial {top}}}{{\\partial {bottom}}}"),
            Format::Text => format!("∂{top}/∂{bottom}"),
        }
    }
}

/// The exponent a factor is shown with.
enum Exponent {
    One,
    Number(BigRational),
    Expr(ExprId),
}

/// True when `var` stands in a position of some family inside `expr`.
fn indexes_something(store: &Store, expr: ExprId, var: IndexVar) -> bool {
    store.any_node(expr, |node| {
        matches!(node, Node::Ref(_, indices) | Node::Adjoint(_, indices) if indices.contains(&var))
    })
}

fn starts_with_digit(text: &str) -> bool {
    text.chars().next().is_some_and(|c| c.is_ascii_digit())
}

fn ends_with_digit(text: &str) -> bool {
    text.chars().last().is_some_and(|c| c.is_ascii_digit())
}
