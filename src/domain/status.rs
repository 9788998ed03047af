use super::slug_enum;

slug_enum! {
    /// Whether the event still happens as announced. A cancelled or postponed event is
    /// never deleted: it stays on its page and in feeds so calendars learn of the change.
    EventStatus, "status", {
        Scheduled => ("scheduled", "Scheduled"),
        Postponed => ("postponed", "Postponed"),
        Cancelled => ("cancelled", "Cancelled"),
    }
}

slug_enum! {
    /// Where the event stands in moderation. Only published events are public.
    ModerationState, "moderation state", {
        Pending => ("pending", "Waiting for review"),
        Published => ("published", "Published"),
        Rejected => ("rejected", "Rejected"),
    }
}

impl EventStatus {
    /// The schema.org `eventStatus` URL.
    pub fn schema_org(self) -> &'static str {
        match self {
            EventStatus::Scheduled => "https://schema.org/EventScheduled",
            EventStatus::Postponed => "https://schema.org/EventPostponed",
            EventStatus::Cancelled => "https://schema.org/EventCancelled",
        }
    }
}

slug_enum! {
    /// What a moderator or an admin did, as the moderation log records it.
    ModerationAction, "moderation action", {
        Approve => ("approve", "Approved"),
        Reject => ("reject", "Rejected"),
        Unpublish => ("unpublish", "Unpublished"),
        AcceptChange => ("accept_change", "Accepted a change"),
        RevertChange => ("revert_change", "Reverted a change"),
        GrantModerator => ("grant_moderator", "Made moderator"),
        RevokeModerator => ("revoke_moderator", "Removed as moderator"),
        Trust => ("trust", "Trusted"),
        Distrust => ("distrust", "No longer trusted"),
        GrantAdmin => ("grant_admin", "Made admin"),
        RevokeAdmin => ("revoke_admin", "Removed as admin"),
    }
}
