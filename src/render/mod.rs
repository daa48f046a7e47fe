//! Printing expressions and equations as Unicode text, LaTeX or the
//! language's own syntax.
//!
//! One printer serves every format: the format is data, and parentheses come
//! from one precedence table. The printer never rewrites an expression; it
//! only chooses how to show it (order of factors, fractions, minus signs,
//! names for bound indices).

pub mod data;
pub mod document;
mod layout;
mod mathml;
pub mod report;
pub mod symbols;

use rustc_hash::FxHashMap as HashMap;

use num_rational::BigRational;
use num_traits::{One, Signed};

use crate::calculus::Form;
use crate::calculus::deltas::Naming;
use crate::expr::functions::LatexName;
use crate::expr::{Builtin, ExprId, Extremum, FamilyId, Function, Index, IndexVar, Node, Store};
use crate::model::{FamilyKind, LeafKind, Model, index_base};
use layout::{Group, Token};
use symbols::{
    carries_script, default_latex, default_text, dsl_reference, greek_text, latex_escape_name,
    latex_identifier, latex_to_text, latex_with_indices, subscripts, superscript,
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
    /// Presentation MathML, as browsers set it.
    MathMl,
}

impl Format {
    /// True when the format sets fractions, sums and scripts in two
    /// dimensions, as LaTeX and MathML do.
    fn is_typeset(self) -> bool {
        matches!(self, Format::Latex | Format::MathMl)
    }
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

/// A laid-out piece of a formula and how tightly it binds.
#[derive(Clone, Debug)]
struct Piece {
    tokens: Vec<Token>,
    precedence: Precedence,
    /// True when the piece opens with a summation sign, or a logarithm
    /// set without brackets, which reaches over everything after it in a
    /// product.
    open_sum: bool,
    /// True when the piece holds a fraction or a summation sign, which a
    /// bracket around it stretches to cover.
    tall: bool,
}

impl Piece {
    /// A piece of one precedence, made of `tokens`.
    fn new(tokens: Vec<Token>, precedence: Precedence, tall: bool) -> Piece {
        Piece {
            tokens,
            precedence,
            open_sum: false,
            tall,
        }
    }
}

/// The places a piece may stand, each with its own need of brackets.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
enum Place {
    /// A term of a sum.
    Term,
    /// A factor of a product; a sum sign may stand unbracketed only last.
    Factor { last: bool },
    /// The numerator of a fraction written on one line (`a/b`).
    Numerator,
    /// The denominator of a fraction written on one line.
    Denominator,
    /// What a minus sign negates.
    Negated,
    /// The base of a power; a symbol with a superscript of its own is
    /// bracketed, since TeX refuses a second one.
    PowerBase { superscripted: bool },
    /// An exponent in the language (`x^2`, `x^(n + 1)`).
    Exponent,
    /// The body of a summation.
    SumBody,
    /// A function's argument or an operator's operand: always bracketed.
    Operand,
}

/// A symbol the printer writes: a family's, its delta's, or the
/// Kronecker delta's.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Hash)]
enum Symbol {
    Family(FamilyId),
    Delta(FamilyId),
    Kronecker,
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
/// A formula is laid out bottom-up with a stack of its own, so that its
/// depth does not matter: each node's piece is made from the pieces of the
/// parts it shows, and a piece is kept only until the last parent waiting
/// for it takes it, so that memory stays within the size of the output.
/// The finished layout is then written in the printer's format.
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
    /// The atoms of the layouts being made, named by their position.
    atoms: Vec<String>,
    /// Symbols already written in MathML, by their LaTeX and index names:
    /// a unit's symbol stands in many equations, and is read once.
    mathml_symbols: HashMap<(Symbol, Vec<String>), String>,
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
            atoms: Vec::new(),
            mathml_symbols: HashMap::default(),
        }
    }

    fn store(&self) -> &'a Store {
        &self.model.store
    }

    /// The model whose expressions the printer prints.
    pub fn model(&self) -> &'a Model {
        self.model
    }

    /// An expression on its own.
    pub fn expr(&mut self, expr: ExprId) -> String {
        self.with_free_names(&[expr], &[], |printer| {
            let piece = printer.piece(expr);
            printer.written(&piece.tokens)
        })
    }

    /// `lhs = rhs`.
    pub fn equation(&mut self, lhs: &Lhs, rhs: ExprId) -> String {
        self.equation_with(lhs, rhs, false)
    }

    /// `lhs &= rhs`: an equation of a block aligned on its equals signs
    /// (in MathML, a row of a table whose cells the caller opens and
    /// closes).
    pub fn aligned_equation(&mut self, lhs: &Lhs, rhs: ExprId) -> String {
        self.equation_with(lhs, rhs, true)
    }

    fn equation_with(&mut self, lhs: &Lhs, rhs: ExprId, aligned: bool) -> String {
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
            let mut tokens = printer.lhs_tokens(lhs);
            tokens.push(Token::Equals { aligned });
            tokens.extend(printer.piece(rhs).tokens);
            printer.written(&tokens)
        })
    }

    /// `lhs = rhs` for two expressions, sharing their free index names.
    pub fn expr_equation(&mut self, lhs: ExprId, rhs: ExprId) -> String {
        self.expr_equation_beside(lhs, rhs, &[])
    }

    /// `lhs = rhs` quoted beside a formula whose free indices are `beside`:
    /// an index bound in the equation takes none of their names, so that
    /// `a_k = Σ_l w_kl z_l` stands beside `∂a_k/∂a_j` without a second `j`.
    pub fn expr_equation_beside(
        &mut self,
        lhs: ExprId,
        rhs: ExprId,
        beside: &[IndexVar],
    ) -> String {
        self.with_free_names(&[lhs, rhs], beside, |printer| {
            let mut tokens = printer.piece(lhs).tokens;
            tokens.push(Token::Equals { aligned: false });
            tokens.extend(printer.piece(rhs).tokens);
            printer.written(&tokens)
        })
    }

    /// Expressions printed side by side as one display, sharing their free
    /// index names (the links of a derivation).
    pub fn exprs(&mut self, exprs: &[ExprId]) -> Vec<String> {
        self.with_free_names(exprs, &[], |printer| {
            exprs
                .iter()
                .map(|e| {
                    let piece = printer.piece(*e);
                    printer.written(&piece.tokens)
                })
                .collect()
        })
    }

    /// Expressions as [`Printer::exprs`] prints them, each cut before the
    /// signs of its outermost sum: the places a long line may break.
    pub fn exprs_in_segments(&mut self, exprs: &[ExprId]) -> Vec<Vec<String>> {
        self.with_free_names(exprs, &[], |printer| {
            exprs
                .iter()
                .map(|e| {
                    let piece = printer.piece(*e);
                    let segments =
                        layout::write_segments(&piece.tokens, &printer.atoms, printer.format);
                    printer.atoms.clear();
                    segments
                })
                .collect()
        })
    }

    /// The left side alone.
    pub fn lhs(&mut self, lhs: &Lhs) -> String {
        let tokens = self.lhs_tokens(lhs);
        self.written(&tokens)
    }

    /// A finished layout written in the printer's format; its atoms are
    /// then let go.
    fn written(&mut self, tokens: &[Token]) -> String {
        let text = layout::write(tokens, &self.atoms, self.format);
        self.atoms.clear();
        text
    }

    /// A new atom of the layout being made.
    fn atom(&mut self, text: String) -> Token {
        let at = u32::try_from(self.atoms.len()).expect("a layout holds fewer than 2^32 atoms");
        self.atoms.push(text);
        Token::Atom(at)
    }

    /// A piece that is one atom.
    fn atom_piece(&mut self, text: String) -> Piece {
        let atom = self.atom(text);
        Piece::new(vec![atom], Precedence::Atom, false)
    }

    fn lhs_tokens(&mut self, lhs: &Lhs) -> Vec<Token> {
        match lhs {
            Lhs::Derivative {
                numerator,
                numerator_indices,
                denominator,
                denominator_indices,
            } => {
                let top = self.reference(*numerator, numerator_indices);
                let bottom = self.reference(*denominator, denominator_indices);
                let top = self.atom(top);
                let bottom = self.atom(bottom);
                self.partial_fraction(&[top], bottom)
            }
            Lhs::Delta(family, indices) => {
                let symbol = self.delta_symbol(*family, indices);
                vec![self.atom(symbol)]
            }
            Lhs::Family(family, indices) => {
                let symbol = self.reference(*family, indices);
                vec![self.atom(symbol)]
            }
        }
    }

    /// `∂top/∂bottom`: a derivative's symbol, `top` empty for an operator.
    fn partial_fraction(&mut self, top: &[Token], bottom: Token) -> Vec<Token> {
        let partial = match self.format {
            Format::Latex => "\\partial ",
            Format::Text => "∂",
            Format::Dsl => "d",
            Format::MathMl => "<mo>∂</mo>",
        };
        let over = self.atom(partial.to_string());
        let under = self.atom(partial.to_string());
        let mut tokens = vec![Token::Open(Group::Fraction), over];
        tokens.extend_from_slice(top);
        tokens.extend([Token::Next, under, bottom, Token::Close]);
        tokens
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
            (Format::Text | Format::Latex | Format::MathMl, Some(primed)) => primed.clone(),
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
            Node::Number(_) | Node::Pi | Node::Ref(..) | Node::Adjoint(..) | Node::Delta(..) => {}
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
            Node::Extremum(_, a, b) => needs.extend([(*a, scope), (*b, scope)]),
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
            Node::Pi => {
                let symbol = match self.format {
                    Format::Latex => "\\pi",
                    Format::Text => "π",
                    Format::Dsl => "pi",
                    Format::MathMl => "<mi>π</mi>",
                };
                self.atom_piece(symbol.to_string())
            }
            Node::Ref(family, indices) => {
                let symbol = self.reference(*family, indices);
                self.atom_piece(symbol)
            }
            Node::Adjoint(family, indices) => {
                let symbol = self.delta_symbol(*family, indices);
                self.atom_piece(symbol)
            }
            Node::Delta(a, b) => {
                let symbol = self.kronecker(*a, *b);
                self.atom_piece(symbol)
            }
            Node::Add(terms) => self.add(terms),
            Node::Mul(_) | Node::Pow(..) => self.product(expr),
            Node::Call(function, order, argument) => {
                let inner = self.get(*argument);
                self.call(*function, *order, inner, None)
            }
            Node::Extremum(kind, a, b) => {
                let (first, second) = (self.get(*a), self.get(*b));
                self.extremum(*kind, first, second)
            }
            Node::Sum(..) => self.sum(expr),
            Node::Derivative(of, wrt) => {
                let piece = self.formal_derivative(*of, wrt.family, &wrt.indices);
                self.holding(piece, *of, &wrt.held)
            }
        }
    }

    /// Whether `piece` standing at `place` needs brackets: the one rule of
    /// the printer for brackets.
    fn needs_brackets(&self, piece: &Piece, place: Place) -> bool {
        let precedence = piece.precedence;
        match place {
            Place::Term | Place::SumBody => precedence <= Precedence::Sum,
            Place::Factor { last } => {
                precedence < Precedence::Product
                    || precedence == Precedence::Negation
                    || (piece.open_sum && !last)
                    // Side by side, `a (b/c)` reads as one product; the
                    // language writes `a*b/c` as it parses.
                    || (precedence == Precedence::Product
                        && self.format != Format::Dsl
                        && !piece.open_sum)
            }
            Place::Numerator => precedence < Precedence::Product || piece.open_sum,
            Place::Denominator => precedence <= Precedence::Product || piece.open_sum,
            // A minus sign distributes over a product: only a sum, or another
            // minus sign, is bracketed.
            Place::Negated => {
                (precedence <= Precedence::Sum || precedence == Precedence::Negation)
                    && !piece.open_sum
            }
            Place::PowerBase { superscripted } => {
                precedence < Precedence::Atom || piece.open_sum || superscripted
            }
            Place::Exponent => precedence != Precedence::Atom,
            Place::Operand => true,
        }
    }

    /// `piece` as it stands at `place`: bracketed when it needs to be.
    fn parenthesize(&self, piece: Piece, place: Place) -> Piece {
        if self.needs_brackets(&piece, place) {
            fenced(piece)
        } else {
            piece
        }
    }

    /// `∂a_k/∂a_j`, or `∂/∂a_j (...)` for an expression that is not a name.
    fn formal_derivative(&mut self, of: ExprId, family: FamilyId, indices: &[Index]) -> Piece {
        let bottom = self.reference(family, indices);
        let bottom = self.atom(bottom);
        let named = matches!(self.store().node(of), Node::Ref(..));
        if named {
            let top = self.get(of).tokens;
            let tokens = self.partial_fraction(&top, bottom);
            return Piece::new(tokens, Precedence::Atom, true);
        }
        let mut tokens = self.partial_fraction(&[], bottom);
        tokens.push(Token::ApplyOperator);
        let operand = self.get(of);
        let operand = self.parenthesize(operand, Place::Operand);
        tokens.extend(operand.tokens);
        Piece::new(tokens, Precedence::Product, true)
    }

    /// A partial derivative of `of` marked with the families it holds
    /// fixed, where holding them matters: those that `of` depends on. The
    /// chain rule's direct term `(∂E/∂w)_y` is so told apart from the
    /// derivative `∂E/∂w` it helps to make.
    fn holding(&mut self, derivative: Piece, of: ExprId, held: &[FamilyId]) -> Piece {
        let Node::Ref(family, _) = *self.store().node(of) else {
            return derivative;
        };
        let reached = self.model.depends_on(family, held);
        if reached.is_empty() {
            return derivative;
        }
        let symbols: Vec<String> = reached
            .iter()
            .map(|held| match self.format {
                Format::Latex => self.family_latex(*held),
                Format::Text => self.family_text(*held),
                Format::Dsl => self.model.family(*held).name.clone(),
                Format::MathMl => self.mathml_symbol(Symbol::Family(*held), Vec::new()),
            })
            .collect();
        let separator = match self.format {
            Format::MathMl => "<mo>,</mo>",
            _ => ", ",
        };
        let symbols = self.atom(symbols.join(separator));
        let mut tokens = vec![Token::Open(Group::Held)];
        tokens.extend(derivative.tokens);
        tokens.extend([Token::Next, symbols, Token::Close]);
        Piece::new(tokens, Precedence::Atom, true)
    }

    fn number(&mut self, value: &BigRational) -> Piece {
        let magnitude = value.abs();
        let piece = if magnitude.is_integer() {
            let digits = self.number_text(magnitude.numer().to_string());
            self.atom_piece(digits)
        } else {
            let numerator = self.number_text(magnitude.numer().to_string());
            let denominator = self.number_text(magnitude.denom().to_string());
            let tokens = vec![
                Token::Open(Group::Fraction),
                self.atom(numerator),
                Token::Next,
                self.atom(denominator),
                Token::Close,
            ];
            // Set as a fraction, a number binds as an atom; written on one
            // line, as a quotient.
            let precedence = if self.format.is_typeset() {
                Precedence::Atom
            } else {
                Precedence::Product
            };
            Piece::new(tokens, precedence, true)
        };
        if value.is_negative() {
            self.negated(piece)
        } else {
            piece
        }
    }

    /// Digits as the format writes a number.
    fn number_text(&self, digits: String) -> String {
        match self.format {
            Format::MathMl => format!("<mn>{digits}</mn>"),
            _ => digits,
        }
    }

    fn negated(&self, inner: Piece) -> Piece {
        let open_sum = inner.open_sum;
        let inner = self.parenthesize(inner, Place::Negated);
        let mut tokens = Vec::with_capacity(inner.tokens.len() + 1);
        tokens.push(Token::Negative);
        tokens.extend(inner.tokens);
        Piece {
            tokens,
            precedence: Precedence::Negation,
            open_sum,
            tall: inner.tall,
        }
    }

    fn add(&mut self, terms: &[ExprId]) -> Piece {
        let mut ordered: Vec<(bool, ExprId)> = terms
            .iter()
            .map(|t| (self.is_negative_term(*t), *t))
            .collect();
        ordered.sort_by_key(|(negative, id)| (*negative, *id));
        let mut tokens = Vec::new();
        let mut tall = false;
        for (position, (negative, term)) in ordered.into_iter().enumerate() {
            let shown = if negative {
                let (coefficient, factors) = self.coefficient_and_factors(term);
                let coefficient = coefficient.expect("a negative term has a number");
                self.product_of(Some(-coefficient), &factors)
            } else {
                self.get(term)
            };
            let shown = self.parenthesize(shown, Place::Term);
            tall |= shown.tall;
            match (position, negative) {
                (0, false) => {}
                (0, true) => tokens.push(Token::Negative),
                (_, false) => tokens.extend([Token::Break, Token::Plus]),
                (_, true) => tokens.extend([Token::Break, Token::Minus]),
            }
            tokens.extend(shown.tokens);
        }
        Piece::new(tokens, Precedence::Sum, tall)
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
                        Some(product) => product * value.as_ref(),
                        None => value.as_ref().clone(),
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
            let mut tokens = fraction.tokens;
            tokens.push(Token::Times);
            tokens.extend(rest.tokens);
            let piece = Piece {
                tokens,
                precedence: Precedence::Product,
                open_sum: rest.open_sum,
                tall: true,
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
            // Set as a fraction, the bar groups; on one line, brackets do.
            let (top, bottom, precedence) = if self.format.is_typeset() {
                (top, bottom, Precedence::Atom)
            } else {
                (
                    self.parenthesize(top, Place::Numerator),
                    self.parenthesize(bottom, Place::Denominator),
                    Precedence::Product,
                )
            };
            let mut tokens = vec![Token::Open(Group::Fraction)];
            tokens.extend(top.tokens);
            tokens.push(Token::Next);
            tokens.extend(bottom.tokens);
            tokens.push(Token::Close);
            Piece::new(tokens, precedence, true)
        };
        if negative { self.negated(piece) } else { piece }
    }

    /// A number (none for 1) and factors side by side.
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
        let mut tokens = Vec::new();
        let mut open_sum = false;
        let mut tall = false;
        for (position, part) in parts.into_iter().enumerate() {
            let last = position + 1 == count;
            open_sum = last && part.open_sum;
            let shown = self.parenthesize(part, Place::Factor { last });
            tall |= shown.tall;
            if position > 0 {
                tokens.push(Token::Times);
            }
            tokens.extend(shown.tokens);
        }
        Piece {
            tokens,
            precedence: Precedence::Product,
            open_sum,
            tall,
        }
    }

    /// The order of factors in a product, as textbooks write them:
    /// functions and activation derivatives such as `(1 - z^2)`, parameters,
    /// deltas, other quantities, powers, other bracketed sums, logarithms,
    /// Kronecker deltas, and the summation last.
    fn factor_class(&self, factor: ExprId) -> u8 {
        match self.store().node(factor) {
            Node::Number(_) | Node::Pi => 0,
            // A logarithm stands after what it multiplies: t_k ln y_k and
            // (1 - t) ln(1 - y).
            Node::Call(Function::Builtin(Builtin::Log), ..) => 7,
            Node::Call(..) | Node::Extremum(..) => 1,
            Node::Add(_) if self.holds_power_or_call(factor) => 1,
            // A constant of the network leads, as λ w does.
            Node::Ref(family, _)
                if self.model.family(*family).kind == FamilyKind::Leaf(LeafKind::Const) =>
            {
                0
            }
            Node::Ref(family, _)
                if self.model.family(*family).kind == FamilyKind::Leaf(LeafKind::Param) =>
            {
                2
            }
            // A bracket with a number in it, as an activation's derivative
            // has, before the error's: y (1 - y) (y - t).
            Node::Add(terms) if terms.iter().any(|t| self.store().as_number(*t).is_some()) => 5,
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
            let inner = self.get(argument);
            if let (Function::Builtin(builtin), 0, false) =
                (function, order, self.format == Format::Dsl)
                && exponent.precedence == Precedence::Atom
                && !matches!(builtin.row().latex, LatexName::Root | LatexName::Bars)
            {
                return self.call(function, 0, inner, Some(exponent));
            }
        }
        let superscripted = self.format.is_typeset() && self.carries_superscript(base);
        let base_piece = self.parenthesize(base_piece, Place::PowerBase { superscripted });
        let exponent = if self.format == Format::Dsl {
            self.parenthesize(exponent, Place::Exponent)
        } else {
            exponent
        };
        Piece::new(
            power_tokens(base_piece.tokens, exponent.tokens),
            Precedence::Power,
            base_piece.tall || exponent.tall,
        )
    }

    /// True when `expr` is a symbol that carries a superscript of its own,
    /// as `w^{(1)}_{ji}` does; inside a group counts too, as TeX takes
    /// `{\hat{y}^2}` apart again. Read from the symbol's notation.
    fn carries_superscript(&self, expr: ExprId) -> bool {
        let notation = match self.store().node(expr) {
            Node::Ref(family, _) => self.family_latex(*family),
            Node::Adjoint(family, _) => self.delta_latex(*family),
            _ => return false,
        };
        carries_script(&notation, &['^', '\''])
    }

    /// A call, its argument laid out as `inner`, its value raised to `power`.
    fn call(
        &mut self,
        function: Function,
        order: u32,
        inner: Piece,
        power: Option<Piece>,
    ) -> Piece {
        let primes = match self.format {
            Format::Text | Format::MathMl => match order {
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
                    Format::MathMl => {
                        let letter = greek_text(name).unwrap_or_else(|| name.clone());
                        format!("<mi>{}</mi>", mathml::escape(&letter))
                    }
                }
            }
            Function::Builtin(builtin) => {
                let row = builtin.row();
                let enclosed = |group| {
                    let mut tokens = vec![Token::Open(group)];
                    tokens.extend(inner.tokens.iter().copied());
                    tokens.push(Token::Close);
                    Piece::new(tokens, Precedence::Atom, inner.tall)
                };
                match (self.format, row.latex) {
                    (Format::Dsl, _) => row.name.to_string(),
                    (_, LatexName::Bars) => return enclosed(Group::Bars),
                    (Format::Latex | Format::MathMl, LatexName::Root) => {
                        return enclosed(Group::Root);
                    }
                    (Format::Text, _) => row.text.to_string(),
                    (Format::Latex, LatexName::Command(command)) => command.to_string(),
                    (Format::Latex, LatexName::Operator(operator)) => {
                        format!("\\operatorname{{{operator}}}")
                    }
                    (Format::MathMl, LatexName::Command(command)) => {
                        format!("<mi>{}</mi>", command.trim_start_matches('\\'))
                    }
                    (Format::MathMl, LatexName::Operator(operator)) => {
                        format!("<mi>{operator}</mi>")
                    }
                }
            }
        };
        let name = match (self.format, primes.is_empty()) {
            (_, true) => name,
            (Format::MathMl, false) => format!("<msup>{name}<mo>{primes}</mo></msup>"),
            (_, false) => format!("{name}{primes}"),
        };
        // A logarithm of a symbol is set as Bishop sets it, `\ln y_k`; like
        // a summation sign, it then reaches over what follows it.
        let bare_logarithm = self.format == Format::Latex
            && power.is_none()
            && primes.is_empty()
            && matches!(function, Function::Builtin(builtin)
                if matches!(builtin.row().latex, LatexName::Command("\\ln")))
            && matches!(inner.tokens.as_slice(), [Token::Atom(_)]);
        let name = self.atom(name);
        if bare_logarithm {
            let mut tokens = vec![name, Token::Times];
            tokens.extend(inner.tokens);
            return Piece {
                tokens,
                precedence: Precedence::Product,
                open_sum: true,
                tall: false,
            };
        }
        let mut tokens = match power {
            Some(power) => power_tokens(vec![name], power.tokens),
            None => vec![name],
        };
        tokens.push(Token::ApplyFunction);
        let tall = inner.tall;
        tokens.extend(self.parenthesize(inner, Place::Operand).tokens);
        Piece::new(tokens, Precedence::Atom, tall)
    }

    /// `max(a, b)`: the name applied to both arguments in one bracket.
    fn extremum(&mut self, kind: Extremum, first: Piece, second: Piece) -> Piece {
        let (name, comma) = match self.format {
            Format::Latex => (format!("\\{}", kind.name()), ", "),
            Format::MathMl => (format!("<mi>{}</mi>", kind.name()), "<mo>,</mo>"),
            Format::Text | Format::Dsl => (kind.name().to_string(), ", "),
        };
        let tall = first.tall || second.tall;
        let mut tokens = vec![
            self.atom(name),
            Token::ApplyFunction,
            Token::Open(Group::Fenced { tall }),
        ];
        tokens.extend(first.tokens);
        tokens.push(self.atom(comma.to_string()));
        tokens.extend(second.tokens);
        tokens.push(Token::Close);
        Piece::new(tokens, Precedence::Atom, tall)
    }

    fn sum(&mut self, expr: ExprId) -> Piece {
        let Node::Sum(bound, body) = self.store().node(expr).clone() else {
            unreachable!("sum() is called on sums")
        };
        let (name, body_scope) = self.binder(expr, bound);
        let inner = self.take(body, body_scope);
        if self.format == Format::Dsl {
            // A name that indexes nothing in the body, and that no index
            // line declares, needs its range written to parse back.
            let declared = self
                .model
                .indices
                .get(&name)
                .is_some_and(|v| self.store().var(*v).range == self.store().var(bound).range);
            let binder = if declared || indexes_something(self.store(), body, bound) {
                name
            } else {
                let range = &self.model.ranges[self.store().var(bound).range.0 as usize].name;
                format!("{name} in {range}")
            };
            let binder = self.atom(binder);
            let mut tokens = vec![Token::Open(Group::BigSum), binder, Token::Next];
            tokens.extend(inner.tokens);
            tokens.push(Token::Close);
            return Piece::new(tokens, Precedence::Atom, true);
        }
        let body = self.parenthesize(inner, Place::SumBody);
        let shown = self.primed.get(&name).cloned().unwrap_or(name);
        let shown = match self.format {
            Format::MathMl => mathml::index_name(&shown),
            _ => shown,
        };
        let binder = self.atom(shown);
        let mut tokens = vec![Token::Open(Group::BigSum), binder, Token::Next];
        tokens.extend(body.tokens);
        tokens.push(Token::Close);
        Piece {
            tokens,
            precedence: Precedence::Product,
            open_sum: true,
            tall: true,
        }
    }

    fn kronecker(&mut self, a: Index, b: Index) -> String {
        let (a, b) = (self.index_name(a), self.index_name(b));
        match self.format {
            Format::Dsl => format!("delta({a}, {b})"),
            Format::Latex => latex_with_indices(&self.model.kronecker_latex, &[a, b]),
            Format::MathMl => self.mathml_symbol(Symbol::Kronecker, vec![a, b]),
            Format::Text => {
                let symbol =
                    latex_to_text(&self.model.kronecker_latex).unwrap_or_else(|| "δ".to_string());
                format!("{symbol}{}", subscripts(&[a, b]))
            }
        }
    }

    /// An index argument as this format writes it: `j`, `t-1`, `t−1`,
    /// `i+p-1`, `2i+p` (`2*i+p` in the language).
    fn index_name(&self, index: Index) -> String {
        if let Index::Var(var) = index {
            return self.var_name(var);
        }
        let (terms, constant) = self.store().index_parts(index);
        // Terms added before terms taken away, each in the order of their
        // names, as a reader writes `i+p-1` and `t-p+1`.
        let mut terms: Vec<(String, i64)> = terms
            .into_iter()
            .map(|(var, c)| (self.var_name(var), c))
            .collect();
        terms.sort_by(|a, b| (a.1 < 0, &a.0).cmp(&(b.1 < 0, &b.0)));
        let minus = if self.format == Format::Text {
            "−"
        } else {
            "-"
        };
        let times = if self.format == Format::Dsl { "*" } else { "" };
        let mut out = String::new();
        for (at, (name, coefficient)) in terms.iter().enumerate() {
            if *coefficient < 0 {
                out.push_str(minus);
            } else if at > 0 {
                out.push('+');
            }
            if coefficient.unsigned_abs() != 1 {
                out.push_str(&format!("{}{times}", coefficient.unsigned_abs()));
            }
            out.push_str(name);
        }
        if constant != 0 || terms.is_empty() {
            if constant < 0 {
                out.push_str(minus);
            } else if !terms.is_empty() {
                out.push('+');
            }
            out.push_str(&constant.unsigned_abs().to_string());
        }
        out
    }

    /// `w^{(2)}_{kj}`, `w⁽²⁾ₖⱼ` or `w2[k,j]`; `h[t-1, j]` with arguments.
    pub fn reference<I: Copy + Into<Index>>(&mut self, family: FamilyId, indices: &[I]) -> String {
        let names: Vec<String> = indices
            .iter()
            .map(|i| self.index_name((*i).into()))
            .collect();
        let info = self.model.family(family);
        match self.format {
            Format::Dsl => dsl_reference(&info.name, &names),
            Format::Latex => latex_with_indices(&self.family_latex(family), &names),
            Format::MathMl => self.mathml_symbol(Symbol::Family(family), names),
            Format::Text => format!("{}{}", self.family_text(family), subscripts(&names)),
        }
    }

    /// A symbol with its index names, in MathML.
    fn mathml_symbol(&mut self, symbol: Symbol, names: Vec<String>) -> String {
        let key = (symbol, names);
        if let Some(known) = self.mathml_symbols.get(&key) {
            return known.clone();
        }
        let tex = match symbol {
            Symbol::Family(family) => self.family_latex(family),
            Symbol::Delta(family) => self.delta_latex(family),
            Symbol::Kronecker => self.model.kronecker_latex.clone(),
        };
        let written = mathml::symbol(&tex, &key.1);
        self.mathml_symbols.insert(key, written.clone());
        written
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

    /// The symbol of a family's delta in LaTeX: its `delta` line, unless
    /// another family shares it, else `\delta^{(name)}`.
    fn delta_latex(&self, family: FamilyId) -> String {
        let info = self.model.family(family);
        info.delta_latex
            .clone()
            .filter(|_| !self.model.shared_delta_symbols.contains(&family))
            .unwrap_or_else(|| format!("\\delta^{{({})}}", latex_escape_name(&info.name)))
    }

    fn delta_symbol<I: Copy + Into<Index>>(&mut self, family: FamilyId, indices: &[I]) -> String {
        let names: Vec<String> = indices
            .iter()
            .map(|i| self.index_name((*i).into()))
            .collect();
        let info = self.model.family(family);
        let own_symbol = info
            .delta_latex
            .as_ref()
            .filter(|_| !self.model.shared_delta_symbols.contains(&family));
        match self.format {
            Format::Dsl => dsl_reference(&format!("delta_{}", info.name), &names),
            Format::Latex => latex_with_indices(&self.delta_latex(family), &names),
            Format::MathMl => self.mathml_symbol(Symbol::Delta(family), names),
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
}

/// `inner` in brackets.
fn fenced(inner: Piece) -> Piece {
    let mut tokens = Vec::with_capacity(inner.tokens.len() + 2);
    tokens.push(Token::Open(Group::Fenced { tall: inner.tall }));
    tokens.extend(inner.tokens);
    tokens.push(Token::Close);
    Piece::new(tokens, Precedence::Atom, inner.tall)
}

/// `base` raised to `exponent`.
fn power_tokens(base: Vec<Token>, exponent: Vec<Token>) -> Vec<Token> {
    let mut tokens = Vec::with_capacity(base.len() + exponent.len() + 3);
    tokens.push(Token::Open(Group::Power));
    tokens.extend(base);
    tokens.push(Token::Next);
    tokens.extend(exponent);
    tokens.push(Token::Close);
    tokens
}

/// The exponent a factor is shown with.
enum Exponent {
    One,
    Number(BigRational),
    Expr(ExprId),
}

/// True when `var` stands alone in a position of some family inside `expr`.
fn indexes_something(store: &Store, expr: ExprId, var: IndexVar) -> bool {
    store.any_node(expr, |node| {
        // Only a bare name tells a reader its range: arithmetic does not.
        matches!(node, Node::Ref(_, indices) | Node::Adjoint(_, indices)
            if indices.contains(&Index::Var(var)))
    })
}

/// MathML's namespace, which a `math` element names.
const MATHML_NAMESPACE: &str = "http://www.w3.org/1998/Math/MathML";

/// A `math` element holding `body`, set as a display of its own when
/// `block`.
pub fn mathml_element(body: &str, block: bool) -> String {
    format!("{}{body}</math>", mathml_open(block))
}

/// The start tag of a `math` element, set as a display of its own when
/// `block`.
fn mathml_open(block: bool) -> String {
    let display = if block { " display=\"block\"" } else { "" };
    format!("<math xmlns=\"{MATHML_NAMESPACE}\"{display}>")
}

/// Equations one a line; in LaTeX, aligned on their equals signs; in
/// MathML, one display, a table of rows aligned on theirs. Written into
/// one string as they are printed, so that a large system is copied once,
/// and a long system printed by every core, a run of lines each.
pub fn equations(model: &Model, lines: &[(Lhs, ExprId)], format: Format) -> String {
    let block = lines.len() > 1;
    let row = |printer: &mut Printer, lhs: &Lhs, rhs: ExprId, out: &mut String| match format {
        Format::Latex if block => out.push_str(&printer.aligned_equation(lhs, rhs)),
        Format::MathMl if block => {
            out.push_str("<mtr><mtd columnalign=\"right\">");
            out.push_str(&printer.aligned_equation(lhs, rhs));
            out.push_str("</mtd></mtr>");
        }
        Format::MathMl => {
            out.push_str(&mathml_element(&printer.equation(lhs, rhs), true));
            out.push('\n');
        }
        _ => {
            out.push_str(&printer.equation(lhs, rhs));
            out.push('\n');
        }
    };
    let separator = if format == Format::Latex && block {
        " \\\\\n"
    } else {
        ""
    };
    let mut out = String::new();
    match format {
        Format::Latex if block => out.push_str("\\begin{aligned}\n"),
        Format::MathMl if block => {
            out.push_str(&mathml_open(true));
            out.push_str("<mtable>");
        }
        _ => {}
    }
    let workers = if lines.len() >= PARALLEL_PRINT_LINES {
        std::thread::available_parallelism().map_or(1, |n| n.get())
    } else {
        1
    };
    let chunk = lines.len().div_ceil(workers).max(1);
    let print_run = |run: &[(Lhs, ExprId)]| {
        let mut printer = Printer::new(model, format);
        let mut text = String::new();
        for (at, (lhs, rhs)) in run.iter().enumerate() {
            if at > 0 {
                text.push_str(separator);
            }
            row(&mut printer, lhs, *rhs, &mut text);
        }
        text
    };
    let runs: Vec<String> = if workers == 1 {
        vec![print_run(lines)]
    } else {
        std::thread::scope(|scope| {
            let printers: Vec<_> = lines
                .chunks(chunk)
                .map(|run| scope.spawn(move || print_run(run)))
                .collect();
            printers
                .into_iter()
                .map(|printer| {
                    printer
                        .join()
                        .unwrap_or_else(|panic| std::panic::resume_unwind(panic))
                })
                .collect()
        })
    };
    for (at, run) in runs.iter().enumerate() {
        if at > 0 {
            out.push_str(separator);
        }
        out.push_str(run);
    }
    match format {
        Format::Latex if block => out.push_str("\n\\end{aligned}\n"),
        Format::MathMl if block => out.push_str("</mtable></math>\n"),
        _ => {}
    }
    out
}

/// How many equations a system has before every core prints a part.
const PARALLEL_PRINT_LINES: usize = 4096;
