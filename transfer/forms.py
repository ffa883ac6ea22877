from django import forms
from django.utils.translation import gettext_lazy as _

MAX_UPLOAD_BYTES = 50 * 1024 * 1024


class UploadForm(forms.Form):
    mission = forms.ChoiceField(label=_("Mission"))
    file = forms.FileField(
        label=_("Spreadsheet (CSV or XLSX)"),
        help_text=_("In the template's shape; headers in any order or case."),
    )
    date_order = forms.ChoiceField(
        label=_("Dates like 03/05/2019 mean"),
        choices=[
            ("day_first", _("day/month/year (3 May 2019)")),
            ("month_first", _("month/day/year (5 March 2019)")),
        ],
        widget=forms.RadioSelect,
        help_text=_("Dates written 2019-05-03, or as Excel dates, are read as such either way."),
    )
    all_or_nothing = forms.BooleanField(
        label=_("All or nothing: import no row unless every row is valid"), required=False
    )

    def __init__(self, *args, missions=(), **kwargs):
        super().__init__(*args, **kwargs)
        self.fields["mission"].choices = [(m.pk, str(m)) for m in missions]

    def clean_file(self):
        upload = self.cleaned_data["file"]
        if upload.size > MAX_UPLOAD_BYTES:
            raise forms.ValidationError(_("The file is larger than 50 MB; split it."))
        return upload


class ExportForm(forms.Form):
    mission = forms.ChoiceField(label=_("Mission"))
    format = forms.ChoiceField(label=_("Format"), choices=[("xlsx", "XLSX"), ("csv", "CSV")])

    def __init__(self, *args, missions=(), **kwargs):
        super().__init__(*args, **kwargs)
        self.fields["mission"].choices = [(m.pk, str(m)) for m in missions]
