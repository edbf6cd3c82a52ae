// Structs with lifetime parameters, enums, while let, labels, consts, statics.
const LIMIT: usize = {
    let mut n = 1;
    while n < 64 {
        n *= 2;
    }
    n
};

static GREETING: &str = "hello";

pub enum Token<'a> {
    Word(&'a str),
    Number(i64),
    End,
}

pub struct Lexer<'a> {
    rest: &'a str,
}

impl<'a> Lexer<'a> {
    pub fn new(input: &'a str) -> Self {
        Lexer { rest: input }
    }

    fn next_token(&mut self) -> Token<'a> {
        let trimmed = self.rest.trim_start();
        if trimmed.is_empty() {
            return Token::End;
        }
        let end = trimmed.find(' ').unwrap_or(trimmed.len());
        let (head, tail) = trimmed.split_at(end);
        self.rest = tail;
        match head.parse::<i64>() {
            Ok(n) => Token::Number(n),
            Err(_) => Token::Word(head),
        }
    }
}

impl<'a> Iterator for Lexer<'a> {
    type Item = Token<'a>;
    fn next(&mut self) -> Option<Token<'a>> {
        match self.next_token() {
            Token::End => None,
            t => Some(t),
        }
    }
}

pub fn count_numbers(input: &str) -> Option<i64> {
    let mut lexer = Lexer::new(input);
    let mut total = 0;
    let mut seen = 0usize;
    'outer: while let Some(tok) = lexer.next() {
        seen += 1;
        if seen > LIMIT {
            break 'outer;
        }
        if let Token::Number(n) = tok {
            total += n;
        }
    }
    let _ = GREETING;
    Some(total)
}
