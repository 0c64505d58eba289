//! What the store's query benches (`million_logs`, `pg_ten_million`) share: the size in rows of what a timed call
//! returned, for their reports.

/// Something a timed call returns, sized in rows for the report.
pub trait Rows {
    fn rows(&self) -> usize;
}

impl Rows for switchboard_store::LogPage {
    fn rows(&self) -> usize {
        self.items.len()
    }
}

impl<T> Rows for Vec<T> {
    fn rows(&self) -> usize {
        self.len()
    }
}

impl<T> Rows for Option<T> {
    fn rows(&self) -> usize {
        usize::from(self.is_some())
    }
}

impl Rows for u64 {
    fn rows(&self) -> usize {
        usize::try_from(*self).unwrap_or(usize::MAX)
    }
}
