"""The desk's forms: the insights period, and an agent's label for a shopper message."""

from __future__ import annotations

from django import forms
from django.utils.translation import gettext_lazy as _

from . import insights, selectors

DAYS_CHOICES = (7, 30, 90)
DEFAULT_DAYS = 30


class InsightsPeriodForm(forms.Form):
    """Either the last N days (7, 30, 90 on the page; any 1-366 in the JSON) or from/to dates."""

    days = forms.IntegerField(label=_("Last days"), required=False, min_value=1, max_value=insights.MAX_DAYS)
    start = forms.DateField(label=_("From"), required=False, widget=forms.DateInput(attrs={"type": "date"}))
    end = forms.DateField(label=_("To"), required=False, widget=forms.DateInput(attrs={"type": "date"}))
    group = forms.ChoiceField(
        label=_("By"), required=False, choices=((insights.DAY, _("day")), (insights.WEEK, _("week"))),
    )

    def __init__(self, data=None, **kwargs):
        # ?from=…&to=… in the address: "from" is a Python keyword, so the fields are start/end.
        if data is not None:
            data = data.copy()
            for outside, inside in (("from", "start"), ("to", "end")):
                if outside in data and inside not in data:
                    data[inside] = data[outside]
        super().__init__(data, **kwargs)

    def clean(self):
        cleaned = super().clean()
        if self.errors:
            return cleaned
        start, end = cleaned.get("start"), cleaned.get("end")
        group = cleaned.get("group") or insights.DAY
        try:
            if start or end:
                if not (start and end):
                    raise forms.ValidationError(_("Give both dates, from and to."))
                cleaned["period"] = insights.Period(first=start, last=end, group=group)
            else:
                cleaned["period"] = insights.Period.last_days(cleaned.get("days") or DEFAULT_DAYS, group=group)
        except ValueError as error:
            raise forms.ValidationError(str(error)) from error
        return cleaned


class MessageLabelForm(forms.Form):
    """An agent's label: one of the model's intents (out_of_scope among them)."""

    intent = forms.ChoiceField(label=_("Intent"))
    next = forms.CharField(required=False, widget=forms.HiddenInput)

    def __init__(self, *args, **kwargs):
        super().__init__(*args, **kwargs)
        self.fields["intent"].choices = [(name, name) for name in selectors.intent_labels()]
