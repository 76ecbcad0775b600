//! `GET` and `DELETE /{scope}/record/`: the records of a window.

use record_model::{Order, QueryWindow, Record};

use super::{Endpoint, check_status, record_path, window_query};
use crate::response::decode_json;
use crate::{ApiRequest, Error, Method, ResponseKind, Scope};

/// Lists the records of a window (spec §2 #1). There is no pagination: one answer holds them
/// all.
///
/// ```
/// use record_api::{Endpoint, ListRecords, Scope};
/// use record_model::{ClientId, Order, QueryWindow};
///
/// let window = QueryWindow::parse("2024-01-01 00:00:00", "2024-01-31 23:59:59")?;
/// let list = ListRecords::new(Scope::client(ClientId::Me), window).order(Order::Asc);
/// assert_eq!(list.request().path_display(), "/api/ver1.0/client/@me/record/");
/// # Ok::<(), record_model::ValidationError>(())
/// ```
#[derive(Debug, Clone, PartialEq, Eq, Hash)]
pub struct ListRecords {
    scope: Scope,
    window: QueryWindow,
    order: Option<Order>,
}

impl ListRecords {
    /// The records of `scope` in `window`, in the API's default order (newest first).
    pub fn new(scope: Scope, window: QueryWindow) -> Self {
        ListRecords {
            scope,
            window,
            order: None,
        }
    }

    /// Asks for this order explicitly.
    pub fn order(mut self, order: Order) -> Self {
        self.order = Some(order);
        self
    }

    /// The window.
    pub fn window(&self) -> QueryWindow {
        self.window
    }
}

impl Endpoint for ListRecords {
    type Output = Vec<Record>;

    fn request(&self) -> ApiRequest {
        let mut request = ApiRequest::api("list_records", Method::Get, record_path(&self.scope));
        request.query = window_query(&self.window);
        if let Some(order) = self.order {
            request
                .query
                .push(("order".to_owned(), order.as_str().to_owned()));
        }
        request
    }

    fn decode(&self, response: &http::Response<Vec<u8>>) -> Result<Vec<Record>, Error> {
        check_status(response)?;
        decode_json("record list", response.body(), false)
    }
}

/// Deletes every record of a window (spec §2 #2). Success is `204`; a `200` with any body is
/// accepted too.
#[derive(Debug, Clone, PartialEq, Eq, Hash)]
pub struct DeleteRecords {
    scope: Scope,
    window: QueryWindow,
}

impl DeleteRecords {
    /// The records of `scope` in `window`.
    pub fn new(scope: Scope, window: QueryWindow) -> Self {
        DeleteRecords { scope, window }
    }
}

impl Endpoint for DeleteRecords {
    type Output = ();

    fn request(&self) -> ApiRequest {
        let mut request =
            ApiRequest::api("delete_records", Method::Delete, record_path(&self.scope));
        request.query = window_query(&self.window);
        request.response = ResponseKind::Empty;
        request
    }

    fn decode(&self, response: &http::Response<Vec<u8>>) -> Result<(), Error> {
        check_status(response)
    }
}
