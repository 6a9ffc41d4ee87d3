"""Flask-WTF forms (CSRF included)."""
from flask_wtf import FlaskForm
from wtforms import HiddenField, PasswordField, StringField
from wtforms.validators import DataRequired, Length, ValidationError

from services.infra import has_control


def _no_control_characters(_form, field) -> None:
    # A NUL byte cannot even be looked up in PostgreSQL; no real name or password holds one.
    if field.data and has_control(field.data):
        raise ValidationError("Control characters are not allowed.")


class LoginForm(FlaskForm):
    """The login form: username, password, and where to go next."""

    username = StringField("Username", validators=[DataRequired(), Length(max=64),
                                                   _no_control_characters])
    password = PasswordField("Password", validators=[DataRequired(), Length(max=256),
                                                     _no_control_characters])
    next = HiddenField()
