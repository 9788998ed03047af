//! Admins' pages: the accounts, and the roles and trust they hold. Every change is
//! written to the moderation log with who made it and why.

use actix_web::http::StatusCode;
use actix_web::{HttpResponse, web};
use askama::Template;
use serde::Deserialize;

use super::account::{no_store, see_other};
use crate::auth::{Checked, Viewer};
use crate::db::models::{Account, City, CityFilter, LogEntry, ModeratorRole, Roles};
use crate::domain::{ModerationAction, clean_line};
use crate::error::{AppError, OrWhenMissing};
use crate::web::AppState;
use crate::web::pages::{Pager, thousands};
use crate::web::params::{canonical_id, parse_page};
use crate::web::urlencoded::Query;

const PER_PAGE: u32 = 50;

fn require_admin(viewer: &Viewer) -> Result<(), AppError> {
    if viewer.roles.admin {
        Ok(())
    } else {
        Err(AppError::forbidden("Only admins can see this page."))
    }
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
    canonical_id(id).ok_or_else(|| AppError::not_found("There is no account at this address."))
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
                .or_when_missing(|| AppError::not_found("There is no account at this address."))?;
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
    let action = match action.as_str() {
        "grant-moderator" => ModerationAction::GrantModerator,
        "revoke-moderator" => ModerationAction::RevokeModerator,
        "trust" => ModerationAction::Trust,
        "distrust" => ModerationAction::Distrust,
        "grant-admin" => ModerationAction::GrantAdmin,
        "revoke-admin" => ModerationAction::RevokeAdmin,
        _ => return Err(AppError::not_found("There is nothing at this address.")),
    };
    let reason: String = clean_line(&form.reason).chars().take(1_000).collect();
    let actor = viewer.account.clone();
    let now = state.clock.now();
    state
        .db(move |conn| {
            conn.immediate_transaction(|conn| {
                let account = Account::find(conn, id).or_when_missing(|| {
                    AppError::not_found("There is no account at this address.")
                })?;
                let mut city: Option<(i32, String)> = None;
                let changed = match action {
                    ModerationAction::GrantModerator => {
                        let city_id = match form.city.trim() {
                            "network" => None,
                            slug => {
                                let c = City::find_by_slug(conn, slug).or_when_missing(|| {
                                    AppError::bad_request("city", "choose a city from the list")
                                })?;
                                city = Some((c.id, c.name.clone()));
                                Some(c.id)
                            }
                        };
                        ModeratorRole::grant(conn, id, city_id, now)?
                    }
                    ModerationAction::RevokeModerator => {
                        let role_id = canonical_id(form.role.trim()).ok_or_else(|| {
                            AppError::bad_request("role", "choose a role to remove")
                        })?;
                        match ModeratorRole::revoke(conn, id, role_id)? {
                            Some(role) => {
                                city = role.city_id.zip(role.city_name);
                                true
                            }
                            None => false,
                        }
                    }
                    ModerationAction::Trust | ModerationAction::Distrust => {
                        let trusted = action == ModerationAction::Trust;
                        account.is_trusted != trusted
                            && Account::set_trusted(conn, id, trusted)? > 0
                    }
                    ModerationAction::GrantAdmin | ModerationAction::RevokeAdmin => {
                        let admin = action == ModerationAction::GrantAdmin;
                        if !admin && account.is_admin && Account::count_admins(conn)? <= 1 {
                            return Err(AppError::Conflict(
                                "This is the last admin; make someone else admin first.".into(),
                            ));
                        }
                        account.is_admin != admin && Account::set_admin(conn, id, admin)? > 0
                    }
                    _ => false,
                };
                if changed {
                    LogEntry::account(
                        &actor,
                        action,
                        &account,
                        city.as_ref().map(|(id, name)| (*id, name.as_str())),
                        &reason,
                    )
                    .insert(conn, now)?;
                }
                Ok::<_, AppError>(())
            })
        })
        .await?;
    Ok(see_other(&format!("/admin/users/{id}?done=1")))
}
