//! Admins' pages: the accounts, and the roles and trust they hold. Every change is
//! written to the moderation log with who made it and why.

use actix_web::http::StatusCode;
use actix_web::{HttpResponse, web};
use askama::Template;
use serde::Deserialize;

use super::account::{no_store, see_other};
use crate::auth::{Checked, Viewer};
use crate::db::models::{Account, City, CityFilter, Roles};
use crate::domain::clean_line;
use crate::error::{AppError, OrWhenMissing};
use crate::urlencoded::Query;
use crate::web::AppState;
use crate::web::pages::{Pager, thousands};
use crate::web::params::{canonical_id, parse_page};
use crate::workflows::Actor;
use crate::workflows::roles::{self, ModeratorScope, RoleChange};

const PER_PAGE: u32 = 50;

fn require_admin(viewer: &Viewer) -> Result<(), AppError> {
    Ok(roles::require_admin(&Actor::from(viewer))?)
}

pub struct UserRow {
    pub id: i32,
    pub email: String,
    pub name: String,
    pub organisation: String,
    pub roles: String,
}

fn roles_summary(roles: &Roles) -> String {
    let mut parts = Vec::new();
    if roles.admin {
        parts.push("Admin".to_owned());
    }
    for r in &roles.moderator {
        parts.push(match &r.city_name {
            Some(c) => format!("Moderator: {c}"),
            None => "Moderator: whole network".to_owned(),
        });
    }
    if roles.trusted {
        parts.push("Trusted organiser".to_owned());
    }
    if parts.is_empty() {
        "Organiser".to_owned()
    } else {
        parts.join("; ")
    }
}

#[derive(Template)]
#[template(path = "admin/users.html")]
pub struct UsersPage {
    pub section: &'static str,
    pub viewer: Viewer,
    pub csrf: String,
    pub q: String,
    pub users: Vec<UserRow>,
    pub pager: Pager,
}

impl UsersPage {
    fn count_text(&self) -> String {
        match self.pager.total {
            1 => "1 account".to_owned(),
            n => format!("{} accounts", thousands(n)),
        }
    }
}

#[derive(Debug, Clone, Default, Deserialize)]
pub struct UsersParams {
    pub q: Option<String>,
    pub page: Option<String>,
}

pub async fn list_users(
    state: web::Data<AppState>,
    viewer: Viewer,
    params: Query<UsersParams>,
) -> Result<HttpResponse, AppError> {
    require_admin(&viewer)?;
    let page = parse_page(&params.page)?;
    let q: String = clean_line(params.q.as_deref().unwrap_or_default())
        .chars()
        .take(200)
        .collect();
    let search = (!q.is_empty()).then(|| q.clone());
    let limit = i64::from(PER_PAGE);
    let offset = i64::from(page - 1) * limit;
    let (rows, total) = state
        .db(move |conn| {
            let (accounts, total) = Account::list(conn, search.as_deref(), limit, offset)?;
            let mut rows = Vec::new();
            for a in accounts {
                let roles = Roles::load(conn, &a)?;
                rows.push(UserRow {
                    id: a.id,
                    email: a.email.clone(),
                    name: a.display_name.clone(),
                    organisation: a.organisation.clone(),
                    roles: roles_summary(&roles),
                });
            }
            Ok((rows, total))
        })
        .await?;
    let query = q.clone();
    let page = UsersPage {
        section: "admin",
        csrf: viewer.csrf_token.clone(),
        viewer,
        q,
        users: rows,
        pager: Pager::for_total(total, page, PER_PAGE, move |p| {
            let mut pairs = Vec::new();
            if !query.is_empty() {
                pairs.push(("q", query.clone()));
            }
            if p > 1 {
                pairs.push(("page", p.to_string()));
            }
            let qs = serde_urlencoded::to_string(&pairs).unwrap_or_default();
            if qs.is_empty() {
                "/admin/users".to_owned()
            } else {
                format!("/admin/users?{qs}")
            }
        }),
    };
    Ok(no_store(StatusCode::OK, page.render()?))
}

#[derive(Template)]
#[template(path = "admin/user.html")]
pub struct UserPage {
    pub section: &'static str,
    pub viewer: Viewer,
    pub csrf: String,
    pub account: Account,
    pub roles: Roles,
    pub cities: Vec<(String, String)>,
    pub notice: Option<String>,
}

#[derive(Debug, Clone, Default, Deserialize)]
pub struct DoneParam {
    pub done: Option<String>,
}

fn account_id(id: &str) -> Result<i32, AppError> {
    canonical_id(id).ok_or_else(|| AppError::not_found(roles::NO_ACCOUNT))
}

pub async fn show_user(
    state: web::Data<AppState>,
    viewer: Viewer,
    id: web::Path<String>,
    params: Query<DoneParam>,
) -> Result<HttpResponse, AppError> {
    require_admin(&viewer)?;
    let id = account_id(&id)?;
    let (account, roles, cities) = state
        .db(move |conn| {
            let account = Account::find(conn, id)
                .or_when_missing(|| AppError::not_found(roles::NO_ACCOUNT))?;
            let roles = Roles::load(conn, &account)?;
            let cities = City::list(conn, &CityFilter::default())?
                .into_iter()
                .map(|c| (c.slug.to_string(), format!("{}, {}", c.name, c.country)))
                .collect();
            Ok((account, roles, cities))
        })
        .await?;
    let page = UserPage {
        section: "admin",
        csrf: viewer.csrf_token.clone(),
        viewer,
        account,
        roles,
        cities,
        notice: params
            .done
            .as_deref()
            .filter(|d| !d.is_empty())
            .map(|_| "Saved, and written to the moderation log.".to_owned()),
    };
    Ok(no_store(StatusCode::OK, page.render()?))
}

#[derive(Debug, Clone, Default, Deserialize)]
#[serde(default)]
pub struct RoleForm {
    /// A city's slug, or `network`, for a new moderator role.
    pub city: String,
    /// The id of the role to revoke.
    pub role: String,
    pub reason: String,
}

pub async fn change_role(
    state: web::Data<AppState>,
    path: web::Path<(String, String)>,
    posted: Checked<RoleForm>,
) -> Result<HttpResponse, AppError> {
    let (viewer, form) = posted.signed_in()?;
    require_admin(&viewer)?;
    let (id, action) = path.into_inner();
    let id = account_id(&id)?;
    let change = match action.as_str() {
        "grant-moderator" => RoleChange::GrantModerator(match form.city.trim() {
            "network" => ModeratorScope::Network,
            slug => ModeratorScope::City(slug.to_owned()),
        }),
        "revoke-moderator" => RoleChange::RevokeModerator(canonical_id(form.role.trim())),
        "trust" => RoleChange::Trust,
        "distrust" => RoleChange::Distrust,
        "grant-admin" => RoleChange::GrantAdmin,
        "revoke-admin" => RoleChange::RevokeAdmin,
        _ => return Err(AppError::not_found("There is nothing at this address.")),
    };
    let actor = Actor::from(&viewer);
    let now = state.clock.now();
    state
        .db(move |conn| {
            Ok(roles::change_role(
                conn,
                &actor,
                id,
                &change,
                &form.reason,
                now,
            )?)
        })
        .await?;
    Ok(see_other(&format!("/admin/users/{id}?done=1")))
}
